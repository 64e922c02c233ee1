import type { Command } from 'commander';
import { describeOrNotFound, withFogpilot } from '../connect';
import { CliError, ExitCodes } from '../errors';
import { stdout } from '../progress';

const MESSAGES = {
  approve: {
    summary: 'approve a runbook that waits for a person (a forced failover)',
    effect: 'it goes on with the failover',
  },
  reject: {
    summary: 'reject a runbook that waits for a person; it ends without change',
    effect: 'it ends without changing anything',
  },
  abort: {
    summary: 'stop a runbook at its next safe point',
    effect:
      'it stops at its next safe point: before the failover is sent, what it changed is undone; after it, it first ' +
      'waits until the group is stable',
  },
} as const;

type MessageName = keyof typeof MESSAGES;

/** `fogpilot approve|reject|abort <workflowId> --by --reason`: the runbook signals, recorded in the report. */
export function registerMessages(program: Command): void {
  for (const name of Object.keys(MESSAGES) as MessageName[]) {
    program
      .command(name)
      .summary(MESSAGES[name].summary)
      .description(
        `Sends the \`${name}\` signal with who and why (both recorded in the run's report): ${MESSAGES[name].effect}. ` +
          'Send it to the workflow you started; a runbook running under the group lock forwards it.',
      )
      .argument('<workflowId>', 'the workflow id a start command printed')
      .requiredOption('--by <who>', 'who sends it (a person, or the incident tool)')
      .requiredOption('--reason <why>', 'why (an incident id, a ticket)')
      .option('--json', 'machine output: one JSON object')
      .addHelpText(
        'after',
        `\nExamples:\n  fogpilot ${name} fogpilot/forcedFailover/fog-sales/INC-42 --by alice --reason "INC-42: eastus down"\n` +
          `  fogpilot ${name} fogpilot/drDrill/fog-sales/2025-01-01T03-00-00-000Z --by bob --reason CHG-7 --json\n`,
      )
      .action(async (workflowId: string, options: { by: string; reason: string; json?: boolean }) => {
        const by = options.by.trim();
        const reason = options.reason.trim();
        if (!by || !reason) throw new CliError('--by and --reason must not be empty', ExitCodes.usage);
        await withFogpilot(async (session) => {
          const description = await describeOrNotFound(session, workflowId);
          if (description.status.name !== 'RUNNING') {
            throw new CliError(
              `${workflowId} has already ended (${description.status.name.toLowerCase()}); the ${name} was not sent.`,
              ExitCodes.failure,
              `See how it ended: fogpilot watch ${workflowId}`,
            );
          }
          await session.fogpilot[name](workflowId, { by, reason });
          if (options.json) {
            stdout.write(`${JSON.stringify({ workflowId, signal: name, by, reason, sent: true })}\n`);
          } else {
            stdout.write(`${name} sent to ${workflowId} (by ${by}: ${reason}): ${MESSAGES[name].effect}.\n`);
            stdout.write(`  follow it: fogpilot watch ${workflowId}\n`);
          }
        });
      });
  }
}
