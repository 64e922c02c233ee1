/** `fogpilot`: the command line. Each command lives in its own module; this file only wires them. */
import { Command } from 'commander';

export function buildProgram(): Command {
  const program = new Command('fogpilot')
    .description('Disaster-recovery runbooks for Azure SQL Managed Instance failover groups, on Temporal')
    .showHelpAfterError();
  return program;
}

export async function main(argv: string[] = process.argv): Promise<void> {
  await buildProgram().parseAsync(argv);
}
