import { createHash } from 'node:crypto';
import { createReadStream, readFileSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { IntentId } from '../../contracts/intent';
import type { SigningKeyList, VerificationResult } from '../../contracts/capsule';
import { DEFAULT_ARCHIVE_LIMITS, extractVerified, trustedKeysFrom, verifyCapsule } from '../../capsule/verify';
import { ApiProblem, type ApiClient } from '../api-client';
import { requireUuid } from '../arguments';
import { contextOf, note, out } from '../context';
import { CliError, usageError } from '../errors';
import { paint, safe, wantsColor, type RenderOptions } from '../format';
import { escapeJsonText } from '../terminal-text';
import { capsuleFor, expectedOf } from './download';

// `qlp verify`: a capsule checked with nothing but public keys. Given a file and --keys it needs no
// network at all; given an id it downloads the capsule (and, without --keys, the API's signing keys).

interface VerifyOptions {
  keys?: string[];
  extract?: string;
  allowUnsigned?: boolean;
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a capsule offline: signatures, digests, provenance and approval')
    .argument('<capsule>', 'capsule archive (.tar.gz), or an intent or capsule id to download and verify')
    .option(
      '--keys <file>',
      "trusted public keys: JSON as served by GET /api/v1/signing-keys, or a PEM file (repeatable; default: the API's)",
      (file: string, files: string[] = []) => [...files, file],
    )
    .option('--extract <dir>', 'after a successful verification, write the capsule into this new or empty directory')
    .option('--allow-unsigned', 'accept a v1 capsule whose digests hold (exit 0); it carries no signature')
    .addHelpText('after', '\nExit codes: 0 verified, 1 failed (or unsigned), 2 usage error, 3 API unreachable.')
    .action(async (target: string, options: VerifyOptions, command: Command) => {
      const json = Boolean(command.optsWithGlobals<{ json?: boolean }>().json);
      const file = archiveFile(target);
      const api = () => contextOf(command).api;
      const trustedKeys = options.keys ? readKeyFiles(options.keys) : await apiKeys(api());
      const archive = file ? createReadStream(file) : await download(api(), target);
      const { result, entries } = await verifyCapsule(archive, { trustedKeys, ...(!file && { requested: target }) });
      if (json) out(escapeJsonText(JSON.stringify(result)));
      else out(render(result, { color: wantsColor(process.stdout) }, Boolean(options.allowUnsigned)));

      const accepted = result.status === 'verified' || (result.status === 'unsigned' && options.allowUnsigned);
      const untouched = options.extract ? '; nothing was extracted' : '';
      if (result.status === 'unsigned' && !accepted)
        throw new CliError(
          `the capsule is unsigned (${safe(result.format ?? 'v1')}): nothing proves its origin${untouched}`,
        );
      if (!accepted || !entries) {
        const failed = result.checks.filter((c) => !c.ok).length;
        throw new CliError(`the capsule failed verification (${failed} of ${result.checks.length} checks)${untouched}`);
      }
      if (options.extract) await extract(entries, options.extract, json);
    });
}

/** The argument as a file to read, or undefined for an id; anything else is a usage error. */
function archiveFile(target: string): string | undefined {
  const stat = statSync(target, { throwIfNoEntry: false });
  if (stat?.isFile()) return target;
  if (stat)
    throw usageError(`${safe(target)} is not a file: give a capsule archive (.tar.gz) or an intent or capsule id`);
  if (IntentId.safeParse(target).success) return undefined;
  throw usageError(`no such file: ${safe(target)} (give a capsule archive, or an intent or capsule id)`);
}

/** Every --keys file merged: a JSON document (GET /api/v1/signing-keys's body, a list of PEMs) or PEM text. */
function readKeyFiles(files: string[]): Map<string, string> {
  const keys = new Map<string, string>();
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (error) {
      throw usageError(`--keys ${safe(file)}: cannot read it (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
    }
    try {
      const trimmed = text.trimStart();
      const document: unknown = trimmed.startsWith('{') || trimmed.startsWith('[') ? JSON.parse(text) : text;
      for (const [id, pem] of trustedKeysFrom(document)) keys.set(id, pem);
    } catch (error) {
      throw usageError(`--keys ${safe(file)}: ${safe((error as Error).message)}`);
    }
  }
  return keys;
}

/** GET /api/v1/signing-keys: every key the platform signs (or signed) capsules with. */
async function apiKeys(api: ApiClient): Promise<Map<string, string>> {
  const { body } = await api.get<SigningKeyList>('/signing-keys', { verbatim: true });
  try {
    return trustedKeysFrom(body);
  } catch (error) {
    throw new CliError(`the API's signing keys are unusable: ${safe((error as Error).message)} (pass --keys instead)`);
  }
}

/** The capsule of an intent (or the capsule id itself), held to the sha256 the API announced. */
async function download(api: ApiClient, id: string): Promise<Buffer> {
  const wanted = await capsuleFor(api, requireUuid(id, 'intent or capsule id'));
  const response = await api.stream(`/capsules/${wanted.capsuleId}/download`).catch((error: unknown) => {
    if (error instanceof ApiProblem && error.status === 404) throw new CliError(`no intent or capsule with id ${id}`);
    throw error;
  });
  const expected = expectedOf(response, wanted);
  if (!response.body) throw new CliError('the API sent an empty download');
  const hash = createHash('sha256');
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
    bytes += chunk.length;
    if (bytes > DEFAULT_ARCHIVE_LIMITS.maxCompressedBytes)
      throw new CliError(`the capsule is larger than ${DEFAULT_ARCHIVE_LIMITS.maxCompressedBytes} bytes; not verified`);
    hash.update(chunk);
    chunks.push(Buffer.from(chunk));
  }
  const sha256 = hash.digest('hex');
  if (expected.bytes !== undefined && expected.bytes !== bytes)
    throw new CliError(`download incomplete: received ${bytes} of ${expected.bytes} bytes; not verified`);
  if (sha256 !== expected.sha256)
    throw new CliError(
      `checksum mismatch: the API announced sha256 ${expected.sha256} but the download hashes to ${sha256}`,
    );
  return Buffer.concat(chunks);
}

async function extract(entries: Map<string, Buffer>, dir: string, json: boolean): Promise<void> {
  const written = await extractVerified(entries, dir).catch((error: unknown) => {
    throw new CliError(`nothing was extracted: ${safe((error as Error).message)}`);
  });
  (json ? note : out)(`extracted ${written.length} files into ${safe(resolve(dir))}`);
}

/** One line per check, then what it adds up to; every detail comes from the archive, so it is escaped. */
export function render(result: VerificationResult, options: RenderOptions, allowUnsigned: boolean): string {
  const lines = result.checks.map(({ check, ok, detail }) =>
    ok
      ? `${paint('✓', 'green', options)} ${check}: ${safe(detail)}`
      : paint(`✗ ${check}: ${safe(detail)}`, 'red', options),
  );
  const capsule = `capsule ${safe(result.capsuleId ?? '?')} (intent ${safe(result.intentId ?? '?')}, version ${result.version ?? '?'})`;
  if (result.status === 'verified') {
    const summary = `verified: ${capsule}, ${result.fileCount} files, signed by ${result.signedBy.join(', ')}`;
    lines.push('', paint(summary, 'green', options));
  } else if (result.status === 'unsigned') {
    const hint = allowUnsigned ? 'accepted (--allow-unsigned)' : 'use --allow-unsigned to accept it';
    lines.push(
      '',
      paint(
        `unsigned: ${capsule} is format v1; its digests hold but nothing proves its origin (${hint})`,
        'yellow',
        options,
      ),
    );
  } else {
    const failed = result.checks.filter((c) => !c.ok).length;
    lines.push('', paint(`FAILED: ${failed} of ${result.checks.length} checks failed`, 'red', options));
  }
  return lines.join('\n');
}
