import type { Command } from 'commander';
import { ApprovalRefusedError } from '../../client';
import { cliIdentity, describeOrNotFound, withFogpilot, type FogpilotSession } from '../connect';
import { CliError, ExitCodes } from '../errors';
import { stdout } from '../progress';

const MESSAGES = {
  approve: {
    summary: 'approve a runbook that waits for a person (a forced failover), as your Temporal identity',
    effect: 'it goes on with the failover',
  },
  reject: {
    summary: 'reject a runbook that waits for a person, as your Temporal identity; it ends without change',
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

/** Fails when the workflow has ended: nothing is sent to a run that cannot act on it. */
async function ensureRunning(session: FogpilotSession, workflowId: string, name: MessageName): Promise<void> {
  const description = await describeOrNotFound(session, workflowId);
  if (description.status.name !== 'RUNNING') {
    throw new CliError(
      `${workflowId} has already ended (${description.status.name.toLowerCase()}); the ${name} was not sent.`,
      ExitCodes.failure,
      `See how it ended: fogpilot watch ${workflowId}`,
    );
  }
}

function nonEmpty(value: string, flag: string): string {
  const trimmed = value.trim();
  if (!trimmed) throw new CliError(`${flag} must not be empty`, ExitCodes.usage);
  return trimmed;
}

/**
 * `fogpilot approve|reject <workflowId> --reason`: a decision sent as an update, as the identity of the CLI's Temporal
 * connection, and judged by the worker's access rules; `fogpilot abort <workflowId> --by --reason`: the abort signal.
 */
export function registerMessages(program: Command): void {
  for (const name of ['approve', 'reject'] as const) {
    program
      .command(name)
      .summary(MESSAGES[name].summary)
      .description(
        `Sends \`${name}\` as the identity of your Temporal connection (\`fogpilot whoami\` shows it): ` +
          `${MESSAGES[name].effect}. The worker's access rules judge it first: the person who started the run may not ` +
          'decide it (two-person rule), and with an access section only an operator granted approve may. A refusal ' +
          "is printed, recorded in the run's status, and changes nothing. Send it to the workflow you started; a " +
          'runbook running under the group lock hands it on.',
      )
      .argument('<workflowId>', 'the workflow id a start command printed')
      .requiredOption('--reason <why>', 'why (an incident id, a ticket)')
      .option('--by <who>', 'not accepted: the identity comes from your Temporal connection')
      .option('--json', 'machine output: one JSON object')
      .addHelpText(
        'after',
        `\nExamples:\n  fogpilot ${name} fogpilot/forcedFailover/fog-sales/INC-42 --reason "INC-42: eastus down"\n` +
          `  fogpilot ${name} fogpilot/forcedFailover/fog-sales/INC-42 --reason CHG-7 --json\n`,
      )
      .action(async (workflowId: string, options: { by?: string; reason: string; json?: boolean }) => {
        if (options.by !== undefined) {
          throw new CliError(
            `--by is not accepted for ${name}: the ${name === 'approve' ? 'approver' : 'rejecter'} is the identity of your Temporal connection, not a name you write.`,
            ExitCodes.usage,
            `Run \`fogpilot whoami\` to see it, then \`fogpilot ${name} ${workflowId} --reason …\`.`,
          );
        }
        const reason = nonEmpty(options.reason, '--reason');
        await withFogpilot(async (session) => {
          await ensureRunning(session, workflowId, name);
          const by = session.identity.label;
          let receipt;
          try {
            receipt = await session.fogpilot[name](workflowId, { reason }, by);
          } catch (error) {
            if (error instanceof ApprovalRefusedError) {
              throw new CliError(
                `${workflowId} refused the ${name} from ${by}: ${error.message}`,
                ExitCodes.failure,
                `The refusal is in the run's status; follow it with: fogpilot watch ${workflowId}`,
              );
            }
            throw error;
          }
          if (options.json) {
            stdout.write(
              `${JSON.stringify({ workflowId, decision: name, by, reason, at: receipt.at, recorded: true })}\n`,
            );
          } else {
            stdout.write(`${name} recorded by ${workflowId} (as ${by}: ${reason}): ${MESSAGES[name].effect}.\n`);
            stdout.write(`  follow it: fogpilot watch ${workflowId}\n`);
          }
        });
      });
  }

  program
    .command('abort')
    .summary(MESSAGES.abort.summary)
    .description(
      `Sends the \`abort\` signal with who and why (both recorded in the run's report): ${MESSAGES.abort.effect}. ` +
        'Send it to the workflow you started; a runbook running under the group lock forwards it.',
    )
    .argument('<workflowId>', 'the workflow id a start command printed')
    .requiredOption('--by <who>', 'who sends it (a person, or the incident tool)')
    .requiredOption('--reason <why>', 'why (an incident id, a ticket)')
    .option('--json', 'machine output: one JSON object')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot abort fogpilot/drDrill/fog-sales/2025-01-01T03-00-00-000Z --by bob --reason CHG-7\n',
    )
    .action(async (workflowId: string, options: { by: string; reason: string; json?: boolean }) => {
      const by = nonEmpty(options.by, '--by');
      const reason = nonEmpty(options.reason, '--reason');
      await withFogpilot(async (session) => {
        await ensureRunning(session, workflowId, 'abort');
        await session.fogpilot.abort(workflowId, { by, reason });
        if (options.json) {
          stdout.write(`${JSON.stringify({ workflowId, signal: 'abort', by, reason, sent: true })}\n`);
        } else {
          stdout.write(`abort sent to ${workflowId} (by ${by}: ${reason}): ${MESSAGES.abort.effect}.\n`);
          stdout.write(`  follow it: fogpilot watch ${workflowId}\n`);
        }
      });
    });

  program
    .command('whoami')
    .summary('show the identity fogpilot acts as: the one approvals and the runs you start carry')
    .description(
      'Prints the identity of your Temporal connection as fogpilot labels it: certificate:<subject> (the client ' +
        'certificate), api-key:sha256:<fingerprint> (the API key), or os-user:<name> (neither: the OS user, which ' +
        'Temporal does not verify). Name it in fogpilot.yaml under access.operators[].identity to grant it approve. ' +
        'Nothing is contacted.',
    )
    .option('--json', 'machine output: one JSON object')
    .action((options: { json?: boolean }) => {
      const identity = cliIdentity();
      if (options.json) stdout.write(`${JSON.stringify(identity)}\n`);
      else stdout.write(`${identity.label}\n  from ${identity.source}\n`);
    });
}
