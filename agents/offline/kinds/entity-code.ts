import type { GeneratedFile } from '../../generated-file';
import type { CatalogueKind } from '../catalogue';
import type { EntitySpec, FieldSpec } from '../intent-parameters';
import { kebab, pascal } from '../names';
import { header } from './header';

/** Names of the entity's code artefacts, shared by every generator that uses them. */
export function entityNames(entity: EntitySpec) {
  const type = pascal(entity.words);
  return {
    type,
    input: `${type}Input`,
    store: `${type}Store`,
    parseInput: `parse${type}Input`,
    parsePatch: `parse${type}Patch`,
    module: kebab(entity.words),
    storeModule: `${kebab(entity.words)}-store`,
    fieldsConst: `${entity.words.join('_').toUpperCase()}_FIELDS`,
    label: entity.words.join(' '),
    pluralLabel: entity.pluralWords.join(' '),
    route: kebab(entity.pluralWords),
  };
}

const TS_TYPE = { string: 'string', number: 'number', boolean: 'boolean', date: 'string' } as const;

/** A valid value for each field, used in generated tests and examples. */
export function sampleValue(field: FieldSpec, variant = 0): string | number | boolean {
  switch (field.type) {
    case 'number':
      return 42 + variant;
    case 'boolean':
      return variant % 2 === 0;
    case 'date':
      return `2024-05-0${1 + (variant % 9)}`;
    default:
      return `Sample ${field.label}${variant ? ` ${variant + 1}` : ''}`;
  }
}

export const sampleObject = (entity: EntitySpec, variant = 0) =>
  Object.fromEntries(entity.fields.map((field) => [field.name, sampleValue(field, variant)]));

function check(field: FieldSpec): string {
  const v = `record.${field.name}`;
  const accept = `value.${field.name} = ${v};`;
  switch (field.type) {
    case 'number':
      return `if (typeof ${v} === 'number' && Number.isFinite(${v})) ${accept}\n    else errors.push('${field.name}: must be a number');`;
    case 'boolean':
      return `if (typeof ${v} === 'boolean') ${accept}\n    else errors.push('${field.name}: must be true or false');`;
    case 'date':
      return `if (typeof ${v} === 'string' && ISO_DATE.test(${v}) && !Number.isNaN(Date.parse(${v}))) ${accept}\n    else errors.push('${field.name}: must be an ISO date such as 2024-05-01');`;
    default:
      return `if (typeof ${v} === 'string' && ${v}.trim() !== '') ${accept}\n    else errors.push('${field.name}: must be a non-empty string');`;
  }
}

/** src/<entity>.ts: the entity type and the validation of untrusted input (request bodies, flags, files). */
export function entityModule(kind: CatalogueKind, entity: EntitySpec): GeneratedFile {
  const n = entityNames(entity);
  const hasDate = entity.fields.some((field) => field.type === 'date');
  const lines = [
    header(kind),
    `/** The fields of a ${n.label} that callers supply. */`,
    `export interface ${n.input} {`,
    ...entity.fields.map(
      (field) =>
        `  /** ${field.label}${field.type === 'date' ? ' (ISO date)' : ''} */\n  ${field.name}: ${TS_TYPE[field.type]};`,
    ),
    '}',
    '',
    `/** A stored ${n.label}: its fields and the id the store assigned. */`,
    `export interface ${n.type} extends ${n.input} {`,
    '  id: string;',
    '}',
    '',
    'export type Validated<T> = { ok: true; value: T } | { ok: false; errors: string[] };',
    '',
    `export const ${n.fieldsConst} = [${entity.fields.map((f) => `'${f.name}'`).join(', ')}] as const;`,
    ...(hasDate ? ['', 'const ISO_DATE = /^\\d{4}-\\d{2}-\\d{2}(T[\\d:.]+(Z|[+-]\\d{2}:\\d{2})?)?$/;'] : []),
    '',
    `function check(input: unknown, partial: boolean): Validated<Partial<${n.input}>> {`,
    "  if (typeof input !== 'object' || input === null || Array.isArray(input)) {",
    `    return { ok: false, errors: ['must be an object with the ${n.label} fields'] };`,
    '  }',
    '  const record = input as Record<string, unknown>;',
    '  const errors: string[] = [];',
    `  const value: Partial<${n.input}> = {};`,
    '  for (const key of Object.keys(record)) {',
    `    if (!(${n.fieldsConst} as readonly string[]).includes(key)) errors.push(key + ': unknown field');`,
    '  }',
    ...entity.fields.flatMap((field) => [
      `  if (record.${field.name} !== undefined) {`,
      `    ${check(field)}`,
      `  } else if (!partial) errors.push('${field.name}: is required');`,
    ]),
    '  return errors.length ? { ok: false, errors } : { ok: true, value };',
    '}',
    '',
    `/** Validates a complete ${n.label} (for create). */`,
    `export function ${n.parseInput}(input: unknown): Validated<${n.input}> {`,
    '  const result = check(input, false);',
    `  return result.ok ? { ok: true, value: result.value as ${n.input} } : result;`,
    '}',
    '',
    `/** Validates a partial ${n.label} (for update): any subset of the fields, at least one. */`,
    `export function ${n.parsePatch}(input: unknown): Validated<Partial<${n.input}>> {`,
    '  const result = check(input, true);',
    "  if (result.ok && Object.keys(result.value).length === 0) return { ok: false, errors: ['give at least one field to change'] };",
    '  return result;',
    '}',
    '',
  ];
  return { path: `src/${n.module}.ts`, content: lines.join('\n'), language: 'typescript' };
}

/** src/<entity>-store.ts: the entities in memory, in insertion order, with sequential ids. */
export function storeModule(kind: CatalogueKind, entity: EntitySpec): GeneratedFile {
  const n = entityNames(entity);
  const content = `${header(kind)}import type { ${n.input}, ${n.type} } from './${n.module}';

/** ${capitalised(n.pluralLabel)} in memory, in insertion order; ids are sequential numbers as strings. */
export class ${n.store} {
  private readonly items = new Map<string, ${n.type}>();
  private nextId = 1;

  /** A store holding previously saved items (ids are kept; new ids continue after the highest). */
  static from(items: ${n.type}[]): ${n.store} {
    const store = new ${n.store}();
    for (const item of items) {
      store.items.set(item.id, { ...item });
      store.nextId = Math.max(store.nextId, Number(item.id) + 1 || store.nextId);
    }
    return store;
  }

  create(input: ${n.input}): ${n.type} {
    const item: ${n.type} = { ...input, id: String(this.nextId++) };
    this.items.set(item.id, item);
    return { ...item };
  }

  get(id: string): ${n.type} | undefined {
    const item = this.items.get(id);
    return item && { ...item };
  }

  list(): ${n.type}[] {
    return [...this.items.values()].map((item) => ({ ...item }));
  }

  update(id: string, patch: Partial<${n.input}>): ${n.type} | undefined {
    const item = this.items.get(id);
    if (!item) return undefined;
    const updated: ${n.type} = { ...item, ...patch, id };
    this.items.set(id, updated);
    return { ...updated };
  }

  remove(id: string): boolean {
    return this.items.delete(id);
  }

  get size(): number {
    return this.items.size;
  }
}
`;
  return { path: `src/${n.storeModule}.ts`, content, language: 'typescript' };
}

export const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
