/**
 * The offline embedding: a deterministic vector of hashed word, word-pair and character n-gram features
 * (feature hashing with a sign bit), L2-normalised. No model, no network: the same text gives the same vector
 * on every machine. It finds near-identical and reworded intents that share words; it knows no synonyms, which
 * is why API responses and docs label it `offline: true` ("local"), unlike a provider's embedding model.
 */

export const LOCAL_EMBEDDING_MODEL = 'local-ngram-v1';
export const LOCAL_EMBEDDING_DIMENSION = 384;

// Feature weights: whole words carry the meaning; character trigrams tolerate plurals, typos and inflection.
const WORD_WEIGHT = 1;
const PAIR_WEIGHT = 0.5;
const TRIGRAM_WEIGHT = 0.35;
// Words that say little about what is built: kept out of the features so the nouns decide.
const STOP_WORDS = new Set(
  'a an and are as at be build by create for from in into is it make of on or that the this to with write'.split(' '),
);

/** FNV-1a, 32 bits: small, fast and stable across platforms (the vector must never change for a given text). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export function words(text: string): string[] {
  const all =
    text
      .normalize('NFKC')
      .toLowerCase()
      .match(/[\p{L}\p{N}]+/gu) ?? [];
  const content = all.filter((word) => !STOP_WORDS.has(word));
  // A plural and its singular are one feature (books → book); trigrams still tell other endings apart.
  return (content.length ? content : all).map((word) =>
    word.length > 3 && word.endsWith('s') && !word.endsWith('ss') ? word.slice(0, -1) : word,
  );
}

/** The offline embedding of `text`: `dimension` numbers, unit length (all zero for text without words). */
export function localEmbedding(text: string, dimension = LOCAL_EMBEDDING_DIMENSION): number[] {
  const vector = new Array<number>(dimension).fill(0);
  const add = (feature: string, weight: number) => {
    const hash = fnv1a(feature);
    vector[hash % dimension]! += hash & 0x80000000 ? -weight : weight;
  };
  const tokens = words(text);
  tokens.forEach((word, i) => {
    add(`w:${word}`, WORD_WEIGHT);
    if (i > 0) add(`p:${tokens[i - 1]} ${word}`, PAIR_WEIGHT);
    const padded = ` ${word} `;
    for (let j = 0; j + 3 <= padded.length; j++) add(`c:${padded.slice(j, j + 3)}`, TRIGRAM_WEIGHT);
  });
  return normalise(vector);
}

export function normalise(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((sum, x) => sum + x * x, 0));
  return norm === 0 ? vector : vector.map((x) => x / norm);
}
