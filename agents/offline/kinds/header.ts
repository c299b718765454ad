import type { CatalogueKind } from '../catalogue';

/** First line of every generated source file: what made it, so nobody mistakes it for an LLM's or a person's. */
export const header = (kind: CatalogueKind) =>
  `// Generated offline by the QuantumLayer catalogue (deterministic, no LLM): ${kind}.\n`;
