import { CliError, ExitCode } from './errors';

export const DEFAULT_API_URL = 'http://127.0.0.1:8080';

/**
 * The only setting the CLI reads: `--api` wins, then QLP_API_URL, then the default.
 * Deliberately not loadConfig(), which would demand server-only variables.
 */
export function resolveApiUrl(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag !== undefined) return parseApiUrl(flag, '--api', ExitCode.usage);
  const fromEnv = env.QLP_API_URL;
  // Empty means unset, as in config/index.ts.
  if (fromEnv === undefined || fromEnv === '') return DEFAULT_API_URL;
  return parseApiUrl(fromEnv, 'QLP_API_URL', ExitCode.config);
}

function parseApiUrl(value: string, source: string, exitCode: number): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:') || url.search || url.hash) {
    throw new CliError(`${source} must be an http(s) URL such as ${DEFAULT_API_URL}, got '${value}'`, exitCode);
  }
  return url.href.replace(/\/+$/, '');
}
