import { Command } from 'commander';
import { DEFAULT_API_URL } from './api-url';
import { registerCancel } from './commands/cancel';
import { registerDecisions } from './commands/decide';
import { registerDownload } from './commands/download';
import { registerHealth } from './commands/health';
import { registerList } from './commands/list';
import { registerStatus } from './commands/status';
import { registerSubmit } from './commands/submit';
import { registerValidation } from './commands/validation';
import { registerWatch } from './commands/watch';
import { registerAudit } from './commands/audit';
import { registerKeys } from './commands/keys';
import { registerVerify } from './commands/verify';
import { registerReview } from './commands/review';
import { registerSimilar } from './commands/similar';
import { version } from '../package.json';

export function buildProgram(): Command {
  const program = new Command('qlp')
    .description('QuantumLayer: turn an intent into a packaged capsule, through the REST API')
    .version(version)
    .option('--api <url>', `API base URL (default: $QLP_API_URL or ${DEFAULT_API_URL})`)
    .option('--json', "print JSON on stdout: the API's unchanged (verify: its result)")
    .option(
      '--token <token>',
      'API key or OIDC token (default: $QLP_TOKEN, or the file $QLP_TOKEN_FILE or ~/.config/qlp/token)',
    )
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 the API refused or the intent failed, 2 usage error,
3 API unreachable, 78 invalid QLP_API_URL, 130 interrupted.`,
    );
  for (const register of [
    registerSubmit,
    registerStatus,
    registerValidation,
    registerList,
    registerWatch,
    registerDecisions,
    registerCancel,
    registerDownload,
    registerVerify,
    registerReview,
    registerSimilar,
    registerHealth,
    registerKeys,
    registerAudit,
  ]) {
    register(program);
  }
  // Throw instead of exiting so main() picks the exit code; applies to subcommands added above.
  program.exitOverride();
  for (const command of program.commands) command.exitOverride();
  return program;
}
