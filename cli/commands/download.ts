import { createHash } from 'node:crypto';
import { createWriteStream, rmSync, statSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable, Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { terminalStatuses } from '../../contracts/intent';
import { ApiProblem, networkReason, type ApiClient } from '../api-client';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';
import { CliError } from '../errors';
import { formatBytes } from '../format';
import type { IntentView } from '../../contracts/views';

export function registerDownload(program: Command): void {
  program
    .command('download')
    .description("download an intent's capsule, verifying its sha256")
    .argument('<id>', 'intent id or capsule id')
    .option(
      '-o, --output <path>',
      'file (or directory) to write; default: the capsule file name, in the current directory',
    )
    .action(async (id: string, options: { output?: string }, command: Command) => {
      const ctx = contextOf(command);
      const capsuleId = await capsuleIdFor(ctx.api, requireUuid(id, 'intent or capsule id'));
      const response = await ctx.api.stream(`/capsules/${capsuleId}/download`).catch((error: unknown) => {
        if (error instanceof ApiProblem && error.status === 404)
          throw new CliError(`no intent or capsule with id ${id}`);
        throw error;
      });
      const target = targetPath(options.output, response.headers.get('content-disposition'), capsuleId);
      const saved = await saveVerified(response, target);
      if (ctx.json) {
        const { path, bytes: sizeBytes, sha256, verified } = saved;
        return out(JSON.stringify({ capsuleId, path, sizeBytes, sha256, verified }));
      }
      out(`saved   ${saved.path}`);
      out(`size    ${formatBytes(saved.bytes)} (${saved.bytes} bytes)`);
      out(`sha256  ${saved.sha256} (${saved.verified ? 'verified' : 'NOT verified: the API sent no checksum'})`);
    });
}

/** An intent id resolves to its capsule; a 404 means the id may be a capsule id itself. */
async function capsuleIdFor(api: ApiClient, id: string): Promise<string> {
  try {
    const intent = (await api.get<IntentView>(`/intents/${id}`)).body;
    if (intent.capsule) return intent.capsule.id;
    throw new CliError(
      terminalStatuses.includes(intent.status)
        ? `intent ${id} is ${intent.status} and has no capsule`
        : `intent ${id} has no capsule yet (status ${intent.status}); a capsule is built after approval`,
    );
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return id;
    throw error;
  }
}

function targetPath(output: string | undefined, disposition: string | null, capsuleId: string): string {
  const suggested = basename(/filename="?([^";]+)"?/i.exec(disposition ?? '')?.[1] ?? '');
  const name = suggested && suggested !== '..' && suggested !== '.' ? suggested : `capsule-${capsuleId}.tar.gz`;
  const target = !output ? resolve(name) : isDirectory(output) ? resolve(join(output, name)) : resolve(output);
  // Fail before downloading rather than after.
  if (!isDirectory(dirname(target)))
    throw new CliError(`cannot write ${target}: ${dirname(target)} is not a directory`);
  return target;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Hashes while streaming into `<target>.part`; only a verified file gets the real name. */
async function saveVerified(response: Response, target: string) {
  const expected = response.headers.get('x-checksum-sha256')?.toLowerCase() ?? null;
  const expectedSize = response.headers.get('content-length');
  const partial = `${target}.part`;
  const removePartial = () => rmSync(partial, { force: true });
  process.once('SIGINT', () => {
    removePartial();
    process.exit(130);
  });
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  if (!response.body) throw new CliError('the API sent an empty download');
  try {
    await pipeline(Readable.fromWeb(response.body as ReadableStream<Uint8Array>), meter, createWriteStream(partial));
  } catch (error) {
    removePartial();
    throw new CliError(`download failed after ${bytes} bytes: ${networkReason(error)}; nothing was saved`);
  }
  const sha256 = hash.digest('hex');
  if (expectedSize !== null && Number(expectedSize) !== bytes) {
    removePartial();
    throw new CliError(`download incomplete: received ${bytes} of ${expectedSize} bytes; nothing was saved`);
  }
  if (expected !== null && expected !== sha256) {
    removePartial();
    throw new CliError(
      `checksum mismatch: the API announced sha256 ${expected} but the download hashes to ${sha256}; the file was deleted`,
    );
  }
  await rename(partial, target);
  return { path: target, bytes, sha256, verified: expected !== null };
}
