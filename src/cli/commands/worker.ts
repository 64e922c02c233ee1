import type { Command } from 'commander';
import { ConfigError } from '../../config/config';
import { PayloadKeysError } from '../../codec/keys';
import { CliError, ExitCodes } from '../errors';

export function registerWorker(program: Command): void {
  program
    .command('worker')
    .summary('run a fogpilot worker on the fogpilot task queue until SIGINT/SIGTERM')
    .description(
      'Runs the runbooks. Reads fogpilot.yaml (FOGPILOT_CONFIG) and the Temporal connection settings the Temporal CLI\n' +
        'uses (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_API_KEY, TLS variables, temporal.toml profiles).\n' +
        'With FOGPILOT_PAYLOAD_KEYS set, every payload it writes to Temporal is encrypted (AES-256-GCM).',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot worker\n  TEMPORAL_ADDRESS=temporal.internal:7233 FOGPILOT_CONFIG=/etc/fogpilot.yaml fogpilot worker',
    )
    .action(async () => {
      try {
        // Loaded here, not at the top: every other command starts a second faster without the worker's SDK parts.
        const { runWorker } = await import('../../worker.js');
        await runWorker();
      } catch (error) {
        if (error instanceof ConfigError) throw new CliError(error.message, ExitCodes.usage);
        if (error instanceof PayloadKeysError) throw new CliError(error.message, ExitCodes.usage, error.action);
        throw new CliError(
          `The worker stopped: ${(error as Error).message}`,
          ExitCodes.failure,
          'Check that the Temporal server at TEMPORAL_ADDRESS is reachable.',
        );
      }
    });
}
