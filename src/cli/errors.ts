/** Exit codes every command uses, so scripts can tell failures apart. */
export const ExitCodes = {
  ok: 0,
  failure: 1,
  usage: 2,
  notFound: 3,
  azure: 4,
  runbookFailed: 5,
} as const;

/** An error a person sees: what happened, and what to do next. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = ExitCodes.failure,
    readonly action?: string,
  ) {
    super(message);
  }
}
