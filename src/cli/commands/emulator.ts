import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { CliError, ExitCodes } from '../errors';
import { untilStopped } from '../stop-signal';

export function registerEmulator(program: Command): void {
  program
    .command('emulator')
    .summary('run the offline Azure (ARM over HTTP or HTTPS, SQL over TDS) for rehearsals and tests')
    .description(
      'Runs the emulator of Azure SQL Managed Instance failover groups and Azure SQL Database server failover groups.\n' +
        'On start it prints one JSON line with its endpoints, the ARM ids of the instance failover groups and instances\n' +
        '(`groups`, `instances`), the server failover groups with their servers by region (`sqlDatabaseGroups`: what an\n' +
        'inventory entry of kind sqlDatabase names) and every SQL endpoint (`sql.hosts`, for fogpilot.yaml), then serves\n' +
        'until stopped.\n' +
        "ARM wants a bearer token: EmulatorCredential's (start line `armToken`) or any JWT. With --tls it serves\n" +
        'HTTPS and TLS in TDS with certificates from a CA made at start, printed in the start line (`tls.ca`).',
    )
    .option(
      '--world <file|name>',
      'world description (JSON or YAML), or a world by name: default (one group, two regions, two databases), ' +
        'establish (four instances, no group: to rehearse establishGroup and reprotect)',
    )
    .option('--port <n>', 'ARM port (0: any free port)', '0')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--speed <x>', 'simulated seconds per real second', '1')
    .option('--tls', 'serve ARM over HTTPS and TDS with TLS (certificates from a CA made at start)')
    .option('--ca-file <path>', "with --tls: also write the CA's certificate (PEM) there, for azure.caFile")
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot emulator --speed 60\n  fogpilot emulator --world rehearsal.yaml --port 8443\n' +
        '  fogpilot emulator --world establish --speed 600\n' +
        '  fogpilot emulator --tls --ca-file emulator-ca.pem\n' +
        '  FOGPILOT_ARM_ENDPOINT=<armEndpoint> FOGPILOT_AZURE_CREDENTIAL=emulator fogpilot status <group id>\n' +
        '  FOGPILOT_ARM_ENDPOINT=<armEndpoint> FOGPILOT_AZURE_CREDENTIAL=emulator FOGPILOT_CA_FILE=emulator-ca.pem fogpilot status <group id>',
    )
    .action(
      async (options: {
        world?: string;
        port: string;
        host: string;
        speed: string;
        tls?: boolean;
        caFile?: string;
      }) => {
        const port = Number(options.port);
        const speed = Number(options.speed);
        if (!Number.isInteger(port) || port < 0 || port > 65535)
          throw new CliError(`--port must be a port number (got ${options.port})`, ExitCodes.usage);
        if (!(speed > 0))
          throw new CliError(`--speed must be a positive number (got ${options.speed})`, ExitCodes.usage);
        if (options.caFile && !options.tls)
          throw new CliError(
            `--ca-file writes the CA of the emulator's TLS, which is off: add --tls (fogpilot emulator --tls --ca-file ${options.caFile})`,
            ExitCodes.usage,
          );
        // Loaded here, not at the top: the emulator is thousands of lines that the worker and every other command never
        // need, and the CLI's entry loads every command module.
        const { startEmulator, worldOf } = await import('../../emulator/index.js');
        let emulator;
        try {
          emulator = await startEmulator({
            world: options.world === undefined ? undefined : worldOf(options.world),
            port,
            host: options.host,
            speed,
            tls: options.tls === true,
          });
        } catch (error) {
          throw new CliError(`The emulator could not start: ${(error as Error).message}`, ExitCodes.usage);
        }
        const ca = emulator.startLine().tls?.ca;
        if (options.caFile && ca) {
          try {
            writeFileSync(options.caFile, ca);
          } catch (error) {
            await emulator.close();
            throw new CliError(
              `The emulator could not write its CA to ${path.resolve(options.caFile)}: ${(error as Error).message}. Give --ca-file a path in a writable directory.`,
              ExitCodes.usage,
            );
          }
        }
        const stopped = untilStopped();
        process.stdout.write(`${JSON.stringify(emulator.startLine())}\n`);
        await stopped;
        await emulator.close();
      },
    );
}
