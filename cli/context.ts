import type { Command } from 'commander';
import { ApiClient } from './api-client';
import { resolveApiUrl } from './api-url';
import { resolveToken } from './credentials';
import { wantsColor } from './format';
import { guardOutput } from './terminal-text';

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

/** The answer on stdout; whatever reached here unescaped is escaped now (only the CLI's colours pass). */
export function out(text: string): void {
  const safeText = guardOutput(text);
  process.stdout.write(safeText.endsWith('\n') ? safeText : `${safeText}\n`);
}

/** Progress and hints go to stderr so stdout stays the answer. */
export function note(text: string): void {
  process.stderr.write(`${guardOutput(text)}\n`);
}
