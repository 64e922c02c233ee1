import { writeFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { ReportFormats, renderReport, type ReportFormat } from '../../report';
import { describeOrNotFound, withFogpilot } from '../connect';
import { CliError, ExitCodes } from '../errors';
import { stdout } from '../progress';

/** `fogpilot report <workflowId>`: an ended run's report as Markdown, JSON or a self-contained HTML page. */
export function registerReport(program: Command): Command {
  return program
    .command('report')
    .summary("print or save a run's report: Markdown, JSON, or a self-contained HTML page")
    .description(
      'Renders the report of a runbook that has ended, succeeded or failed (a failed run carries its report too): ' +
        'outcome, RTO each way, data loss, the timeline of steps with their evidence, ARM calls and warnings. ' +
        'On a run still going, say --wait to wait for its end.',
    )
    .argument('<workflowId>', 'the workflow id a start command printed')
    .addOption(new Option('--format <format>', 'md, json or html').choices([...ReportFormats]).default('md'))
    .option('--output <file>', 'write the report to this file instead of stdout')
    .option('--wait', 'wait for a run that is still going to end')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot report fogpilot/drDrill/fog-sales/2025-01-01T03-00-00-000Z\n' +
        '  fogpilot report <id> --format html --output drill.html\n' +
        '  fogpilot report <id> --format json | jq .drill\n',
    )
    .action(async (workflowId: string, options: { format: ReportFormat; output?: string; wait?: boolean }) => {
      await withFogpilot(async (session) => {
        const description = await describeOrNotFound(session, workflowId);
        if (description.status.name === 'RUNNING' && !options.wait) {
          throw new CliError(
            `${workflowId} is still running; its report exists when it ends.`,
            ExitCodes.failure,
            `Follow it with \`fogpilot watch ${workflowId}\`, or add --wait.`,
          );
        }
        const outcome = await session.fogpilot.result(workflowId).catch((error: unknown) => {
          throw new CliError(
            `${workflowId} ended without a report (${description.status.name.toLowerCase()}): ${(error as Error).message}`,
            ExitCodes.failure,
            'A terminated or timed-out run has no report; see its history with `temporal workflow show`.',
          );
        });
        if (!outcome.report && outcome.summary) {
          throw new CliError(
            `${workflowId} was started by a fleet and returned only a summary (${outcome.summary.outcome}); its full ` +
              'report is read from the run through its status query, and no worker answered it.',
            ExitCodes.failure,
            `Start a worker on the task queue (\`fogpilot worker\`), then run \`fogpilot report ${workflowId}\` again.`,
          );
        }
        if (!outcome.report) {
          throw new CliError(
            `${workflowId} ended without a report${outcome.failure ? ` (${outcome.failure.type}: ${outcome.failure.message})` : ''}.`,
            ExitCodes.failure,
            'A terminated or cancelled run has no report; see its history with `temporal workflow show`.',
          );
        }
        const text = renderReport(outcome.report, options.format);
        if (options.output) {
          try {
            writeFileSync(options.output, text);
          } catch (error) {
            throw new CliError(`Cannot write ${options.output}: ${(error as Error).message}`, ExitCodes.failure);
          }
          stdout.write(`Report of ${workflowId} written to ${options.output}\n`);
        } else {
          stdout.write(text);
        }
      });
    });
}
