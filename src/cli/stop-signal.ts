/**
 * How a long-running command (the emulator, the HTTP trigger) learns it is to stop. Call it before printing the start
 * line: whoever reads that line may send SIGTERM at once, and a signal that arrives before the handler is in place
 * kills the process without its clean shutdown.
 */
export function untilStopped(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve('SIGINT'));
    process.once('SIGTERM', () => resolve('SIGTERM'));
  });
}
