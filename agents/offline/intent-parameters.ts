import { pluralWords, safeIdentifier, singular, words } from './names';

export type FieldType = 'string' | 'number' | 'boolean' | 'date';

export interface FieldSpec {
  /** camelCase identifier used in code. */
  name: string;
  type: FieldType;
  /** The words from the intent, for documentation. */
  label: string;
}

export interface EntitySpec {
  /** Singular words: ['book', 'loan']. */
  words: string[];
  /** Plural words: ['book', 'loans']. */
  pluralWords: string[];
  fields: FieldSpec[];
}

export const operations = ['create', 'read', 'list', 'update', 'delete'] as const;
export type Operation = (typeof operations)[number];

/** Words that describe the kind of project, not the thing it is about. */
const NOT_ENTITY = new Set(
  (
    'a an the our my all some any each every new simple small basic tiny typed typescript ts node nodejs javascript rest restful http ' +
    'https json crud api apis service services server microservice cli command line commandline terminal tool tools module modules ' +
    'library package sdk background worker workers job jobs queue kubernetes k8s manifest manifests app application deployment ' +
    'tracker manager registry store in memory inmemory based that which using with this me us ' +
    'build create make write generate implement develop please need want i we'
  ).split(' '),
);

/** Things people list after "with" that are features, not fields. */
const NOT_FIELD = new Set(
  'tests test testing readme docs documentation validation pagination auth authentication logging persistence docker dockerfile ci types retries retry'.split(
    ' ',
  ),
);

const BOUNDARY =
  '(?=\\s+(?:with|having|containing|including|that|which|where|using|on|in|into|from|every|supporting|exposing|and|fields?|by|to|as)\\b|[,.;:()]|\\s*$)';
const LEAD =
  '(?:for|of|manag(?:e|es|ing)|track(?:s|ing)?|stor(?:e|es|ing)|process(?:es|ing)?|handl(?:e|es|ing)|about|export(?:s|ing)?|forward(?:s|ing)?|receiv(?:e|es|ing))';

const VERB = '(?:add|list|record|log|edit|remove|delete|update|show|view|create)s?';

/** The thing the project is about: "for library books" → ['library', 'book']; undefined if the text names none. */
export function entityWords(text: string): string[] | undefined {
  const lower = ` ${text.toLowerCase().replace(/\s+/g, ' ')} `;
  const patterns = [
    new RegExp(`\\b${LEAD}\\s+([a-z][a-z0-9-]*(?:\\s[a-z][a-z0-9-]*){0,3}?)${BOUNDARY}`),
    new RegExp(
      `\\b${VERB}(?:,?\\s+(?:and\\s+|or\\s+)?${VERB})*\\s+([a-z][a-z0-9-]*(?:\\s[a-z][a-z0-9-]*){0,3}?)${BOUNDARY}`,
    ),
    /\b((?:[a-z][a-z0-9-]*\s){1,3})(?:service|api|tracker|manager|registry|worker|job|cli|tool|module|library|app|application|receiver)\b/,
  ];
  for (const pattern of patterns) {
    const match = pattern.exec(lower);
    const found = match?.[1] ? words(match[1]).filter((word) => !NOT_ENTITY.has(word)) : [];
    if (found.length) {
      const kept = found.slice(-3);
      return [...kept.slice(0, -1), singular(kept.at(-1)!)];
    }
  }
  return undefined;
}

const NUMBER_WORDS =
  /^(count|quantity|qty|amount|price|cost|total|age|year|number|rating|score|weight|height|width|length|size|capacity|stock|balance|duration|minutes|hours|days|level|rank|priority|percent|percentage|pages|copies|seats)$/;
const BOOLEAN_WORDS =
  /^(active|enabled|done|completed|complete|returned|archived|paid|published|available|verified|visible|open|closed|overdue)$/;
const DATE_WORDS = /^(date|at|time|on|deadline|birthday)$/;

function fieldType(parts: string[], explicit?: string): FieldType {
  if (explicit) {
    if (/^(number|int|integer|float|decimal|numeric)$/.test(explicit)) return 'number';
    if (/^(bool|boolean|flag)$/.test(explicit)) return 'boolean';
    if (/^(date|datetime|timestamp)$/.test(explicit)) return 'date';
    return 'string';
  }
  const last = parts.at(-1) ?? '';
  if (/^(is|has|can|should)$/.test(parts[0] ?? '') || BOOLEAN_WORDS.test(last)) return 'boolean';
  if (parts[0] === 'number' || NUMBER_WORDS.test(last)) return 'number';
  if (DATE_WORDS.test(last)) return 'date';
  return 'string';
}

const FIELD_LIST_END =
  '(?=\\.\\s|\\.$|;|$|\\b(?:and (?:supports?|exposes?|operations?|it|that)|operations?|supporting|exposing|that|which|on port|using|listening)\\b)';

/** "with title, author and due date" / "fields: price:number, name" → typed fields (at most 12). */
export function fieldSpecs(text: string): FieldSpec[] {
  const lower = text.toLowerCase().replace(/\s+/g, ' ');
  const list =
    new RegExp(`\\b(?:fields?|properties|attributes|columns)\\s*[:=]?\\s*(.+?)${FIELD_LIST_END}`).exec(lower)?.[1] ??
    new RegExp(`\\b(?:with|having|containing|storing)(?: an?| the| their| its)?\\s+(.+?)${FIELD_LIST_END}`).exec(
      lower,
    )?.[1];
  if (!list) return [];
  const fields: FieldSpec[] = [];
  for (const raw of list.split(/,|\band\b|;|\//)) {
    const item = raw.trim().replace(/^(an?|the|their|its)\s+/, '');
    const typed = /^([a-z][a-z0-9 _-]*?)\s*(?::|\(|\bas\b)\s*([a-z]+)\)?$/.exec(item);
    const parts = words(typed?.[1] ?? item);
    if (parts.length === 0 || parts.length > 3 || parts.some((word) => NOT_FIELD.has(word) || /^[0-9]/.test(word)))
      continue;
    const name = safeIdentifier(parts);
    if (name === 'idValue' || fields.some((field) => field.name === name)) continue;
    fields.push({ name, type: fieldType(parts, typed?.[2]), label: parts.join(' ') });
  }
  return fields.slice(0, 12);
}

const VERBS: [RegExp, Operation][] = [
  [/\b(create|add|register|insert|post)\b/, 'create'],
  [/\b(read|get|show|fetch|view|retrieve|lookup|look up)\b/, 'read'],
  [/\b(list|browse|search|all)\b/, 'list'],
  [/\b(update|edit|modify|change|patch|put)\b/, 'update'],
  [/\b(delete|remove|destroy)\b/, 'delete'],
];

/** Operations the text asks for; all five when it names none (or says CRUD). The leading verb ("Create a …") is not one. */
export function operationSpecs(text: string): { operations: Operation[]; named: boolean } {
  const lower = text
    .toLowerCase()
    .replace(/^\s*(please\s+)?(build|create|make|write|generate|implement|add|develop)\b/, ' ');
  if (/\bcrud\b/.test(lower)) return { operations: [...operations], named: true };
  if (/\bread[- ]only\b/.test(lower)) return { operations: ['read', 'list'], named: true };
  const found = VERBS.filter(([pattern]) => pattern.test(lower)).map(([, op]) => op);
  return found.length
    ? { operations: operations.filter((op) => found.includes(op)), named: true }
    : { operations: [...operations], named: false };
}

export function entitySpec(singularWords: string[], fields: FieldSpec[]): EntitySpec {
  return { words: singularWords, pluralWords: pluralWords(singularWords), fields };
}

/** The number in the first capture group `pattern` filled, if within [min, max]; else undefined. */
export function numberParameter(text: string, pattern: RegExp, min: number, max: number): number | undefined {
  const match = pattern.exec(text.toLowerCase());
  const value = Number(match?.slice(1).find((group) => group !== undefined));
  return Number.isInteger(value) && value >= min && value <= max ? value : undefined;
}
