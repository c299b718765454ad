import { statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import type { ReadableStream } from 'node:stream/web';
import type { Command } from 'commander';
import { IntentId, terminalStatuses } from '../../contracts/intent';
import { ApiProblem, type ApiClient } from '../api-client';
import { requireUuid } from '../arguments';
import { contextOf, out } from '../context';
import { CliError } from '../errors';
import { formatBytes, safe } from '../format';
import { refuseExisting, saveVerified } from '../verified-file';
import type { IntentView } from '../../contracts/views';

const SHA256 = /^[0-9a-f]{64}$/;

/** What to download: the capsule id, and what the intent's record says of it (when the id was an intent's). */
interface Wanted {
  capsuleId: string;
  fileName: string;
  sha256?: string;
}

export function registerDownload(program: Command): void {
  program
    .command('download')
    .description("download an intent's capsule, verifying its sha256")
    .argument('<id>', 'intent id or capsule id')
    .option(
      '-o, --output <path>',
      'file (or existing directory) to write; default: <intent id>-v<version>.tar.gz in the current directory',
    )
    .option('-f, --force', 'replace the file if it exists')
    .action(async (id: string, options: { output?: string; force?: boolean }, command: Command) => {
      const ctx = contextOf(command);
      const force = Boolean(options.force);
      const wanted = await capsuleFor(ctx.api, requireUuid(id, 'intent or capsule id'));
      // The name is ours (from ids), never the server's Content-Disposition; checked before downloading.
      const target = targetPath(options.output, wanted.fileName);
      await refuseExisting(target, force);
      const response = await ctx.api.stream(`/capsules/${wanted.capsuleId}/download`).catch((error: unknown) => {
        if (error instanceof ApiProblem && error.status === 404)
          throw new CliError(`no intent or capsule with id ${id}`);
        throw error;
      });
      if (!response.body) throw new CliError('the API sent an empty download');
      const saved = await saveVerified(
        Readable.fromWeb(response.body as ReadableStream<Uint8Array>),
        target,
        expectedOf(response, wanted),
        force,
      );
      if (ctx.json) {
        const { path, bytes: sizeBytes, sha256 } = saved;
        return out(JSON.stringify({ capsuleId: wanted.capsuleId, path, sizeBytes, sha256, verified: true }));
      }
      out(`saved   ${safe(saved.path)}`);
      out(`size    ${formatBytes(saved.bytes)} (${saved.bytes} bytes)`);
      out(`sha256  ${saved.sha256} (verified)`);
    });
}

/** An intent id resolves to its capsule; a 404 means the id may be a capsule id itself. */
export async function capsuleFor(api: ApiClient, id: string): Promise<Wanted> {
  try {
    const intent = (await api.get<IntentView>(`/intents/${id}`)).body;
    const capsule = intent.capsule;
    if (capsule) {
      // Ids from the server go into a URL and a file name: only a UUID and a whole version do.
      if (!IntentId.safeParse(capsule.id).success || !Number.isSafeInteger(capsule.version))
        throw new CliError(`the API described the capsule of intent ${id} with an invalid id or version`);
      return {
        capsuleId: capsule.id.toLowerCase(),
        fileName: `${id}-v${capsule.version}.tar.gz`,
        sha256: capsule.sha256,
      };
    }
    throw new CliError(
      terminalStatuses.includes(intent.status)
        ? `intent ${id} is ${safe(intent.status)} and has no capsule`
        : `intent ${id} has no capsule yet (status ${safe(intent.status)}); a capsule is built after approval`,
    );
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return { capsuleId: id, fileName: `capsule-${id}.tar.gz` };
    throw error;
  }
}

/** The checksum to hold the download to: the header and the intent's record must agree; none at all is refused. */
export function expectedOf(response: Response, wanted: Wanted): { sha256: string; bytes?: number } {
  const header = response.headers.get('x-checksum-sha256')?.toLowerCase();
  const recorded = wanted.sha256?.toLowerCase();
  if (header && recorded && header !== recorded)
    throw new CliError(
      `the API announced sha256 ${safe(header)} but the intent records ${safe(recorded)}; nothing was saved`,
    );
  const sha256 = header ?? recorded;
  if (!sha256 || !SHA256.test(sha256))
    throw new CliError('the API sent no valid sha256 for the capsule, so it cannot be verified; nothing was saved');
  const length = response.headers.get('content-length');
  return { sha256, ...(length !== null && /^\d+$/.test(length) && { bytes: Number(length) }) };
}

/** `-o` an existing directory: our name inside it; `-o` a file path: exactly that; none: our name here. */
function targetPath(output: string | undefined, fileName: string): string {
  const name = basename(fileName);
  const target = !output ? resolve(name) : isDirectory(output) ? resolve(join(output, name)) : resolve(output);
  if (!isDirectory(dirname(target)))
    throw new CliError(`cannot write ${safe(target)}: ${safe(dirname(target))} is not a directory`);
  return target;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
