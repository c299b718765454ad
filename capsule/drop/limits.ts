// How big a QuantumDrop may get: a reviewer reads it in a browser or a terminal, and building it must
// stay quick on a 2-core worker. docs/quantum-drops.md lists them.

export interface DropLimits {
  /** Bytes of one file's diff shown; the rest is cut at a line and counted. */
  diffBytesPerFile: number;
  /** Bytes of diff shown over all files; later files show none once it is spent. */
  diffBytesTotal: number;
  /** Files larger than this (either version) are not diffed. */
  diffInputBytes: number;
  /** Changed lines beyond which a modified file is not diffed (the diff's CPU grows with their square). */
  maxEditLength: number;
  /** Changed lines diffed over all modified files; later ones are not diffed once it is spent. */
  diffWork: number;
  /** Findings listed (most severe first); all are counted. */
  findings: number;
  /** Test failures listed; all are counted. */
  testFailures: number;
  /** Characters of one message (finding, test output excerpt). */
  messageChars: number;
  /** Evidence and tests listed per requirement. */
  coverageDetails: number;
}

export const DROP_LIMITS: DropLimits = {
  diffBytesPerFile: 64 * 1024,
  diffBytesTotal: 1024 * 1024,
  diffInputBytes: 1024 * 1024,
  maxEditLength: 2000,
  diffWork: 20_000,
  findings: 50,
  testFailures: 20,
  messageChars: 2000,
  coverageDetails: 5,
};

/** 65536 → "64 KiB", 1048576 → "1 MiB": how the limits read in notes. */
export function sizeText(bytes: number): string {
  if (bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0) return `${bytes / (1024 * 1024)} MiB`;
  if (bytes >= 1024 && bytes % 1024 === 0) return `${bytes / 1024} KiB`;
  return `${bytes} bytes`;
}
