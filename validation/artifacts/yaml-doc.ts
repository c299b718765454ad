import { isAlias, isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Document } from 'yaml';

// A thin reader over the `yaml` AST that keeps line numbers. Aliases are followed by path lookups (bounded
// by the path) but never by whole-tree walks, so an alias bomb cannot make the review exponential.

export type YamlNode = unknown;

const TRUE = new Set(['true', 'yes', 'on', 'y']);
const FALSE = new Set(['false', 'no', 'off', 'n']);

export class YamlDoc {
  constructor(
    readonly doc: Document,
    private readonly lines: LineCounter,
  ) {}

  get root(): YamlNode {
    return this.doc.contents;
  }

  private resolve(node: YamlNode): YamlNode {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** The value under `key` of a map, looking through `<<` merge keys as Kubernetes' YAML reader does. */
  get(node: YamlNode, key: string, depth = 0): YamlNode {
    const map = this.resolve(node);
    if (!isMap(map) || depth > 8) return undefined;
    const pair = map.items.find((item) => isScalar(item.key) && String(item.key.value) === key);
    if (pair) return this.resolve(pair.value);
    for (const merge of map.items.filter((item) => isScalar(item.key) && item.key.value === '<<')) {
      const sources = this.resolve(merge.value);
      for (const source of isSeq(sources) ? sources.items : [sources]) {
        const found = this.get(source, key, depth + 1);
        if (found !== undefined) return found;
      }
    }
    return undefined;
  }

  path(node: YamlNode, ...keys: string[]): YamlNode {
    return keys.reduce((current, key) => this.get(current, key), node);
  }

  items(node: YamlNode): YamlNode[] {
    const seq = this.resolve(node);
    return isSeq(seq) ? seq.items.map((item) => this.resolve(item)) : [];
  }

  entries(node: YamlNode): [string, YamlNode][] {
    const map = this.resolve(node);
    if (!isMap(map)) return [];
    return map.items
      .filter((item) => isScalar(item.key))
      .map((item) => [String((item.key as { value: unknown }).value), this.resolve(item.value)]);
  }

  isMap(node: YamlNode): boolean {
    return isMap(this.resolve(node));
  }

  /** A scalar as text (numbers and booleans too), else undefined. */
  text(node: YamlNode): string | undefined {
    const scalar = this.resolve(node);
    if (!isScalar(scalar) || scalar.value === null || typeof scalar.value === 'object') return undefined;
    return String(scalar.value);
  }

  /** A boolean as container runtimes read it: YAML 1.1 spellings (yes/on) count. */
  bool(node: YamlNode): boolean | undefined {
    const value = this.text(node)?.toLowerCase();
    return value === undefined ? undefined : TRUE.has(value) ? true : FALSE.has(value) ? false : undefined;
  }

  line(node: YamlNode, fallback = 1): number {
    const range = (this.resolve(node) as { range?: [number, number, number] } | undefined)?.range;
    return range ? this.lines.linePos(range[0]).line : fallback;
  }

  /** Every string scalar in the tree with its line, aliases not followed. */
  *strings(node: YamlNode = this.doc.contents): Generator<{ value: string; line: number }> {
    const stack: YamlNode[] = [node];
    while (stack.length) {
      const current = stack.pop();
      if (isScalar(current) && typeof current.value === 'string')
        yield { value: current.value, line: this.line(current) };
      else if (isSeq(current)) stack.push(...[...current.items].reverse());
      else if (isMap(current)) for (const item of [...current.items].reverse()) stack.push(item.value, item.key);
    }
  }

  /** Every map in the tree (aliases not followed), e.g. to find pod specs wherever a kind nests them. */
  *maps(node: YamlNode = this.doc.contents): Generator<YamlNode> {
    const stack: YamlNode[] = [node];
    while (stack.length) {
      const current = stack.pop();
      if (isSeq(current)) stack.push(...[...current.items].reverse());
      else if (isMap(current)) {
        yield current;
        for (const item of [...current.items].reverse()) stack.push(item.value);
      }
    }
  }
}

/** The documents of a YAML file, or the first error (a file we cannot read is not assessed, never clean). */
export function parseYaml(content: string): { docs: YamlDoc[] } | { error: string; line: number } {
  const lines = new LineCounter();
  const docs = parseAllDocuments(content, { lineCounter: lines, prettyErrors: false });
  const list = Array.isArray(docs) ? docs : [];
  for (const doc of list) {
    const error = doc.errors[0];
    if (error)
      return { error: `${error.code}: ${error.message.split('\n')[0]}`, line: lines.linePos(error.pos[0]).line };
  }
  return { docs: list.map((doc) => new YamlDoc(doc, lines)) };
}
