// Names derived from intent words; whatever the text says, these only ever yield [A-Za-z0-9] identifiers.

const RESERVED = new Set(
  (
    'break case catch class const continue debugger default delete do else enum export extends false finally for function if ' +
    'import in instanceof new null return super switch this throw true try typeof var void while with yield let static ' +
    'implements interface package private protected public await any boolean number string symbol object id constructor'
  ).split(' '),
);

const IRREGULAR: Record<string, string> = {
  people: 'person',
  children: 'child',
  men: 'man',
  women: 'woman',
  data: 'data',
  series: 'series',
  news: 'news',
};
const IRREGULAR_PLURAL: Record<string, string> = Object.fromEntries(
  Object.entries(IRREGULAR).map(([plural, single]) => [single, plural]),
);

export const words = (text: string) =>
  text
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean);

export function singular(word: string): string {
  if (IRREGULAR[word]) return IRREGULAR[word];
  if (/[^aeiou]ies$/.test(word)) return `${word.slice(0, -3)}y`;
  if (/(ss|x|z|ch|sh)es$/.test(word)) return word.slice(0, -2);
  if (/[^su]s$/.test(word) && !/(is|us|ss)$/.test(word)) return word.slice(0, -1);
  return word;
}

export function plural(word: string): string {
  if (IRREGULAR_PLURAL[word]) return IRREGULAR_PLURAL[word];
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}

const cap = (word: string) => word.charAt(0).toUpperCase() + word.slice(1);

/** ['book', 'loan'] → BookLoan */
export const pascal = (parts: string[]) => parts.map(cap).join('') || 'Item';
/** ['due', 'date'] → dueDate */
export const camel = (parts: string[]) => {
  const name = pascal(parts);
  return name.charAt(0).toLowerCase() + name.slice(1);
};
/** ['book', 'loan'] → book-loan */
export const kebab = (parts: string[]) => parts.join('-');

/** A camelCase identifier that is never a reserved word and never starts with a digit. */
export function safeIdentifier(parts: string[]): string {
  let name = camel(parts);
  if (/^[0-9]/.test(name)) name = `field${pascal(parts)}`;
  return RESERVED.has(name) ? `${name}Value` : name;
}

/** Entity words with the last one made plural: ['book', 'loan'] → ['book', 'loans']. */
export const pluralWords = (parts: string[]) => [...parts.slice(0, -1), plural(parts.at(-1) ?? 'item')];
