const STOP_WORDS = new Set(
  'a an and the for to of in on with that this build create make write generate please me my our i we it which'.split(
    ' ',
  ),
);

/** A short, filesystem-safe project name taken from the intent's own words. */
export function projectNameFor(text: string): string {
  const words = text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9\s]/g, ' ')
    .split(/\s+/)
    .filter((word) => word.length > 1 && !STOP_WORDS.has(word));
  return words.slice(0, 4).join('-') || 'project';
}
