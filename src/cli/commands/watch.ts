import type { Command } from 'commander';
import { describeOrNotFound, withFogpilot } from '../connect';
import { followRunbook, formatOutcome, outcomeJson, raiseForOutcome, stderr, stdout } from '../progress';

/** `fogpilot watch <workflowId>`: live progress of a run until it ends, then its outcome. */
export function registerWatch(program: Command): Command {
  return program
    .command('watch')
    .summary('follow a runbook: its steps as they change until it ends, then the outcome')
    .description(
      'Shows the steps of a running runbook as they start and end (from its status query, and from the group lock ' +
        'holder it runs under), what it waits for (an approval, Azure), then the outcome. On a run that has ended it ' +
        'prints the outcome at once. Exit code: 0 succeeded, 5 failed or aborted, 3 unknown workflow.',
    )
    .argument('<workflowId>', 'the workflow id a start command printed')
    .option('--json', 'machine output: the outcome as one JSON object on stdout (progress goes to stderr)')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot watch fogpilot/drDrill/fog-sales/2025-01-01T03-00-00-000Z\n' +
        '  fogpilot watch "$(fogpilot drill fog-sales --no-wait --json | jq -r .workflowId)"\n',
    )
    .action(async (workflowId: string, options: { json?: boolean }) => {
      await withFogpilot(async (session) => {
        const description = await describeOrNotFound(session, workflowId);
        const progress = options.json ? stderr : stdout;
        progress.write(
          `Watching ${description.type} ${workflowId} (${description.status.name.toLowerCase()}, started ${description.startTime.toISOString()})\n`,
        );
        const outcome = await followRunbook(session.fogpilot, workflowId, progress, { taskQueue: session.taskQueue });
        if (options.json) stdout.write(`${JSON.stringify(outcomeJson(workflowId, outcome))}\n`);
        else stdout.write(formatOutcome(workflowId, outcome));
        raiseForOutcome(workflowId, outcome);
      });
    });
}
