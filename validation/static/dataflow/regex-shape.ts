/**
 * Exponential backtracking in a regular expression's source: a repeated group whose body can match the
 * same text in more than one way — a nested unbounded quantifier with no mandatory separator the inner
 * part cannot match (`(a+)+`, `(\w+\s?)*`), or alternatives of one character that overlap (`(\w|\d)+`).
 * Character sets are compared on sample characters by the JavaScript engine itself.
 */

interface Term {
  /** A single-character matcher's source (`a`, `\d`, `[a-z]`, `.`), or undefined for groups and assertions. */
  char?: string;
  alternatives?: Term[][];
  zeroWidth?: boolean;
  min: number;
  max: number;
}

const SAMPLE = [...'aZ0_ \t\n\r.-@/\\:,<>é+=$"\'(;!#%&*?[]{}|~`^'];

class Parser {
  private index = 0;
  constructor(private readonly source: string) {}

  parse(): Term[][] {
    const alternatives = this.alternation();
    if (this.index < this.source.length) throw new Error('unbalanced');
    return alternatives;
  }

  private alternation(): Term[][] {
    const alternatives: Term[][] = [[]];
    while (this.index < this.source.length && this.source[this.index] !== ')') {
      if (this.source[this.index] === '|') {
        this.index++;
        alternatives.push([]);
        continue;
      }
      alternatives.at(-1)!.push(this.quantified(this.atom()));
    }
    return alternatives;
  }

  private atom(): Term {
    const s = this.source;
    const c = s[this.index]!;
    if (c === '(') {
      this.index++;
      let lookaround = false;
      if (s.startsWith('?:', this.index)) this.index += 2;
      else if (/^\?<?[=!]/.test(s.slice(this.index, this.index + 3))) {
        lookaround = true;
        this.index += s[this.index + 1] === '<' ? 3 : 2;
      } else if (s.startsWith('?<', this.index)) this.index = s.indexOf('>', this.index) + 1;
      const alternatives = this.alternation();
      if (s[this.index] !== ')') throw new Error('unbalanced');
      this.index++;
      return lookaround ? { zeroWidth: true, min: 1, max: 1 } : { alternatives, min: 1, max: 1 };
    }
    if (c === '[') {
      let end = this.index + 1;
      if (s[end] === '^') end++;
      if (s[end] === ']') end++;
      while (end < s.length && s[end] !== ']') end += s[end] === '\\' ? 2 : 1;
      const char = s.slice(this.index, end + 1);
      this.index = end + 1;
      return { char, min: 1, max: 1 };
    }
    if (c === '\\') {
      const next = s[this.index + 1] ?? '';
      let end = this.index + 2;
      if (/[bB]/.test(next)) {
        this.index = end;
        return { zeroWidth: true, min: 1, max: 1 };
      }
      // Back-references match text of any length: treat them as "anything".
      if (/[1-9]/.test(next)) {
        while (/\d/.test(s[end] ?? '')) end++;
        this.index = end;
        return { char: '[^]', min: 1, max: 1 };
      }
      if (next === 'k') end = s.indexOf('>', end) + 1;
      else if (/[pP]/.test(next) && s[end] === '{') end = s.indexOf('}', end) + 1;
      else if (next === 'u' && s[end] === '{') end = s.indexOf('}', end) + 1;
      else if (next === 'u') end += 4;
      else if (next === 'x') end += 2;
      else if (next === 'c') end += 1;
      const char = s.slice(this.index, end);
      this.index = end;
      return next === 'k' ? { char: '[^]', min: 1, max: 1 } : { char, min: 1, max: 1 };
    }
    this.index++;
    if (c === '^' || c === '$') return { zeroWidth: true, min: 1, max: 1 };
    return { char: /[{}]/.test(c) ? `\\${c}` : c, min: 1, max: 1 };
  }

  private quantified(term: Term): Term {
    const s = this.source;
    const c = s[this.index];
    let min = 1;
    let max = 1;
    if (c === '*' || c === '+' || c === '?') {
      this.index++;
      [min, max] = c === '*' ? [0, Infinity] : c === '+' ? [1, Infinity] : [0, 1];
    } else if (c === '{') {
      const match = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(this.index));
      if (!match) return term;
      this.index += match[0].length;
      min = Number(match[1]);
      max = match[2] === undefined ? min : match[3] ? Number(match[3]) : Infinity;
    } else return term;
    if (s[this.index] === '?') this.index++;
    return { ...term, min: term.min * min, max: term.max * max };
  }
}

/** The sample characters a term can consume (anywhere in its match). */
function charsOf(term: Term, flags: string, cache: Map<string, Set<string>>, sample: string[]): Set<string> {
  if (term.zeroWidth) return new Set();
  if (term.char !== undefined) {
    let set = cache.get(term.char);
    if (!set) {
      set = new Set();
      try {
        const regex = new RegExp(`^(?:${term.char})$`, flags);
        for (const c of sample) if (regex.test(c)) set.add(c);
      } catch {
        for (const c of sample) set.add(c);
      }
      cache.set(term.char, set);
    }
    return set;
  }
  const all = new Set<string>();
  for (const alternative of term.alternatives ?? [])
    for (const inner of alternative) for (const c of charsOf(inner, flags, cache, sample)) all.add(c);
  return all;
}

const canBeEmpty = (term: Term): boolean =>
  term.zeroWidth === true ||
  term.min === 0 ||
  (term.alternatives?.some((alternative) => alternative.every(canBeEmpty)) ?? false);

/**
 * A term whose repetition count varies and that consumes characters each time (`a+`, `\w*`, `[a-z]{2,4}`),
 * directly or inside a group: repeated again from outside, one text splits into many different runs.
 */
const repeatsVariably = (term: Term): boolean =>
  (term.max > term.min &&
    term.max > 1 &&
    !term.zeroWidth &&
    !(term.alternatives && term.alternatives.every((a) => a.every(canBeEmpty)))) ||
  (term.alternatives?.some((alternative) => alternative.some(repeatsVariably)) ?? false);

const intersects = (a: Set<string>, b: Set<string>) => [...a].some((c) => b.has(c));

/** The part of the pattern open to exponential backtracking, or undefined. */
export function exponentialPart(source: string, flags = ''): string | undefined {
  let tree: Term[][];
  try {
    tree = new Parser(source).parse();
  } catch {
    return undefined;
  }
  const safeFlags = flags.replace(/[gyd]/g, '');
  const cache = new Map<string, Set<string>>();
  // The pattern's own characters join the samples, so literal letters are compared too.
  const sample = [...new Set([...SAMPLE, ...source])];
  const chars = (term: Term) => charsOf(term, safeFlags, cache, sample);
  // The characters of the parts that repeat a varying number of times (`\s+` in `(?:and\s+)?`).
  const variableChars = (term: Term): Set<string> => {
    if (term.max > term.min && term.max > 1) return chars(term);
    const all = new Set<string>();
    for (const alternative of term.alternatives ?? [])
      for (const inner of alternative) if (repeatsVariably(inner)) for (const c of variableChars(inner)) all.add(c);
    return all;
  };
  let found: string | undefined;
  const visit = (terms: Term[]) => {
    for (const term of terms) {
      if (found || !term.alternatives) continue;
      if (term.max === Infinity || term.max > 20) {
        for (const alternative of term.alternatives) {
          for (const inner of alternative) {
            if (!repeatsVariably(inner)) continue;
            const innerChars = variableChars(inner);
            const separated = alternative.some(
              (other) => other !== inner && !canBeEmpty(other) && !intersects(chars(other), innerChars),
            );
            if (!separated) found = 'a nested quantifier';
          }
        }
        const singles = term.alternatives.filter((a) => a.length === 1 && a[0]!.char !== undefined).map((a) => a[0]!);
        for (let i = 0; i < singles.length && !found; i++)
          for (let j = i + 1; j < singles.length && !found; j++)
            if (intersects(chars(singles[i]!), chars(singles[j]!))) found = 'overlapping alternatives';
      }
      for (const alternative of term.alternatives) visit(alternative);
    }
  };
  for (const alternative of tree) visit(alternative);
  return found;
}
