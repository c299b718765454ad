/** Exit codes are part of the CLI's contract: scripts branch on them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  unreachable: 3,
  config: 78, // EX_CONFIG, as the services use for a bad environment
  interrupted: 130,
} as const;

/** An error the CLI reports as one `error: …` line (plus optional detail lines), never a stack trace. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCode.failure,
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliError';
  }
}

export const usageError = (message: string) => new CliError(message, ExitCode.usage);
