import { CommanderError } from 'commander';
import { ApiProblem } from './api-client';
import { CliError, ExitCode } from './errors';
import { buildProgram } from './program';
import { guardOutput } from './terminal-text';

/** Runs the CLI and returns its exit code; every failure becomes a message, never a stack trace. */
export async function main(argv: string[]): Promise<number> {
  try {
    await buildProgram().parseAsync(argv);
    return Number(process.exitCode ?? ExitCode.ok);
  } catch (error) {
    return report(error, argv.includes('--json'));
  }
}

function report(error: unknown, json: boolean): number {
  // Commander already printed its message; help and --version exit 0, everything else is misuse.
  if (error instanceof CommanderError) return error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
  if (error instanceof ApiProblem && json && error.raw) process.stdout.write(`${error.raw}\n`);
  if (error instanceof CliError) {
    const details = error.details.map((line) => `  ${line}\n`).join('');
    process.stderr.write(guardOutput(`error: ${error.message}\n${details}`));
    return error.exitCode;
  }
  process.stderr.write(guardOutput(`error: ${(error as Error)?.message ?? String(error)}\n`));
  return ExitCode.failure;
}

// `qlp … | head` closes stdout early; that is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(ExitCode.ok);
});

if (require.main === module) {
  void main(process.argv).then((code) => {
    process.exitCode = code;
  });
}
