const SECRET_WORDS = ['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'CREDENTIAL', 'PRIVATE_KEY', 'APIKEY', 'API_KEY'];
// Names that point at a secret rather than hold one.
const REFERENCE_SUFFIXES = [
  '_FILE',
  '_PATH',
  '_URL',
  '_URI',
  '_NAME',
  '_DIR',
  '_HEADER',
  '_ENDPOINT',
  '_ID',
  '_TTL',
  '_EXPIRY',
  '_EXPIRES',
  '_LENGTH',
  '_SIZE',
  '_TYPE',
];

/** An environment/build variable name that holds a credential: *_KEY, *_SECRET, *_TOKEN, *PASSWORD*. */
export function isSecretName(name: string): boolean {
  const upper = name.toUpperCase();
  if (REFERENCE_SUFFIXES.some((suffix) => upper.endsWith(suffix)) || upper.includes('PUBLIC')) return false;
  return SECRET_WORDS.some((word) => upper.includes(word)) || upper.endsWith('_KEY') || upper === 'KEY';
}
