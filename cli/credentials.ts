import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CliError, ExitCode } from './errors';

/**
 * The credential the CLI sends (an API key or an OIDC access token): `--token`, then QLP_TOKEN, then the
 * file named by QLP_TOKEN_FILE (default ~/.config/qlp/token, which should be readable by you only).
 * None: requests go without one, and the API answers 401 saying so.
 */
export function resolveToken(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (flag) return checked(flag, '--token');
  if (env.QLP_TOKEN) return checked(env.QLP_TOKEN, 'QLP_TOKEN');
  const file = env.QLP_TOKEN_FILE || join(homedir(), '.config', 'qlp', 'token');
  try {
    return checked(readFileSync(file, 'utf8').trim(), file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !env.QLP_TOKEN_FILE) return undefined;
    if (error instanceof CliError) throw error;
    throw new CliError(`cannot read the token file ${file}: ${(error as Error).message}`, ExitCode.config);
  }
}

function checked(token: string, source: string): string {
  if (!/^[\x21-\x7e]+$/.test(token)) {
    throw new CliError(`${source} must be an API key or a token (printable, no spaces)`, ExitCode.config);
  }
  return token;
}
