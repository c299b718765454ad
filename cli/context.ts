import type { Command } from 'commander';
import { ApiClient } from './api-client';
import { resolveApiUrl } from './api-url';
import { resolveToken } from './credentials';
import { wantsColor } from './format';

/** What every command needs, derived from the global options. */
export interface CliContext {
  api: ApiClient;
  json: boolean;
  color: boolean;
}

export function contextOf(command: Command): CliContext {
  const { api, json, token } = command.optsWithGlobals<{ api?: string; json?: boolean; token?: string }>();
  return {
    api: new ApiClient(resolveApiUrl(api), undefined, resolveToken(token)),
    json: Boolean(json),
    color: wantsColor(process.stdout),
  };
}

export function out(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** Progress and hints go to stderr so stdout stays the answer. */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
