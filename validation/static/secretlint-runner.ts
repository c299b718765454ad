import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ProjectFile } from '../project';

/** What we keep of a secretlint message: never its text or data, which hold the secret (even masked, its length). */
export interface SecretlintHit {
  path: string;
  ruleId: string;
  messageId: string;
  line: number;
  column: number;
}

// secretlint is ESM-only; a worker thread loads it with Node's own loader whatever runs us (tsx, jest, compiled JS).
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { lintSource } = await import(workerData.core);
  const { creator } = await import(workerData.preset);
  const config = { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: creator }] };
  const hits = [];
  for (const file of workerData.files) {
    const result = await lintSource({
      source: { filePath: '/' + file.path, content: file.content, ext: '', contentType: 'text' },
      options: { config, maskSecrets: true },
    });
    for (const m of result.messages) {
      hits.push({ path: file.path, ruleId: m.ruleId, messageId: m.messageId || '', line: m.loc.start.line, column: m.loc.start.column + 1 });
    }
  }
  parentPort.postMessage({ hits });
})().catch((error) => parentPort.postMessage({ error: String((error && error.message) || error) }));
`;

export const secretlintVersion = (): string =>
  (JSON.parse(readFileSync(require.resolve('@secretlint/core/package.json'), 'utf8')) as { version: string }).version;

/** Runs secretlint's recommended preset over the files; rejects when it cannot run or exceeds the timeout. */
export function runSecretlint(files: ProjectFile[], timeoutMs = 60_000): Promise<SecretlintHit[]> {
  const workerData = {
    core: pathToFileURL(require.resolve('@secretlint/core')).href,
    preset: pathToFileURL(require.resolve('@secretlint/secretlint-rule-preset-recommend')).href,
    files: files.map(({ path, content }) => ({ path, content })),
  };
  return new Promise((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, { eval: true, workerData });
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error(`secretlint did not finish within ${timeoutMs} ms`));
    }, timeoutMs);
    worker.once('message', (message: { hits?: SecretlintHit[]; error?: string }) => {
      clearTimeout(timer);
      void worker.terminate();
      if (message.hits) resolve(message.hits);
      else reject(new Error(`secretlint failed: ${message.error ?? 'no result'}`));
    });
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
