/** Exit codes scripts can rely on. */
export const ExitCode = {
  Ok: 0,
  /** A runtime failure: the gateway could not start, a server could not be reached. */
  Failure: 1,
  /** Bad usage or an invalid configuration file. */
  Usage: 2,
  /** `verify` found the session log tampered with or damaged. */
  VerifyFailed: 3,
  /** The thing asked for does not exist (session id, approval id). */
  NotFound: 4,
} as const;

/** An error the CLI reports as one clean line and turns into an exit code. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = ExitCode.Failure) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
