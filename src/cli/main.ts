/** `fogpilot`: the command line. Each command lives in its own module; this file only wires them. */
import { Command, CommanderError } from 'commander';
import { registerEmulator } from './commands/emulator';
import { registerRunbookCommands } from './commands/runbooks';
import { registerStatus } from './commands/status';
import { registerWorker } from './commands/worker';
import { registerWebhook } from './commands/webhook';
import { registerCodecServer } from './commands/codec-server';
import { CliError, ExitCodes } from './errors';

export function buildProgram(): Command {
  const program = new Command('fogpilot')
    .description('Disaster-recovery runbooks for Azure SQL Managed Instance failover groups, on Temporal')
    .showHelpAfterError()
    .exitOverride();
  registerWorker(program);
  registerRunbookCommands(program);
  registerStatus(program);
  registerEmulator(program);
  registerWebhook(program);
  registerCodecServer(program);
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      process.exitCode = error.exitCode === 0 ? ExitCodes.ok : ExitCodes.usage;
      return;
    }
    if (error instanceof CliError) {
      process.stderr.write(`fogpilot: ${error.message}\n${error.action ? `  → ${error.action}\n` : ''}`);
      process.exitCode = error.exitCode;
      return;
    }
    throw error;
  }
}
