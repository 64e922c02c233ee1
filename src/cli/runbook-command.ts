/**
 * What every command that starts a runbook shares: the common flags (`--input`, `--idempotency-key`,
 * `--workflow-id`, `--requested-by`, `--reason`, `--json`, `--no-wait`), validation before anything reaches Temporal
 * (exit 2 naming the field and its flag), the start, and following the run to its end with progress.
 */
import type { Command } from 'commander';
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common';
import { InvalidRunbookInputError, validateRunbookInput, type RunbookType } from '../client';
import { cliIdentity, withFogpilot } from './connect';
import { CliError, ExitCodes } from './errors';
import { inputOption, invalidInputError, mergeInput } from './flags';
import { followRunbook, formatOutcome, outcomeJson, raiseForOutcome, stderr, stdout } from './progress';

export interface CommonRunbookOptions {
  input?: string;
  idempotencyKey?: string;
  workflowId?: string;
  requestedBy?: string;
  reason?: string;
  json?: boolean;
  wait: boolean;
}

export interface RunbookCommandSpec<O> {
  /** The command's name, e.g. `failover`. */
  name: string;
  runbook: RunbookType;
  summary: string;
  description: string;
  /** `<group>`, `[group]`, or none (fleet-failover). */
  argument?: { syntax: string; description: string };
  examples: string[];
  /** Adds the runbook's own flags. */
  flags(command: Command): void;
  /** Maps the flags (and the group argument) to input fields; undefined values are left out. */
  toInput(group: string | undefined, options: O & CommonRunbookOptions): Record<string, unknown>;
  /** Input field → the flag that sets it, for error messages. */
  fieldFlags: Record<string, string>;
}

/** Adds the flags every runbook command has. */
export function addCommonRunbookFlags(command: Command): Command {
  return command
    .option('--input <json>', 'any input field as a JSON object (or @file.json); flags override it')
    .option('--idempotency-key <key>', 'an incident id: a repeated start with the same key returns the same run')
    .option('--workflow-id <id>', 'the workflow id to start under (default: fogpilot/<runbook>/<group>/<time>)')
    .option('--requested-by <who>', 'not accepted: the requester is your Temporal identity (`fogpilot whoami`)')
    .option('--reason <text>', 'why (an incident or change id; recorded in the report)')
    .option('--json', 'machine output: one JSON object on stdout (progress goes to stderr)')
    .option('--no-wait', 'return right after the start, printing the workflow id (follow it with `fogpilot watch`)');
}

/** Starts the runbook with the input the flags make (the default validates, starts and follows it). */
export type RunbookStarter = (
  spec: RunbookCommandSpec<never>,
  input: Record<string, unknown>,
  options: CommonRunbookOptions,
) => Promise<void>;

export function registerRunbookCommand<O>(
  program: Command,
  spec: RunbookCommandSpec<O>,
  start: RunbookStarter = startRunbook,
): Command {
  const command = program.command(spec.name).summary(spec.summary).description(spec.description);
  if (spec.argument) command.argument(spec.argument.syntax, spec.argument.description);
  spec.flags(command);
  addCommonRunbookFlags(command);
  command.addHelpText('after', `\nExamples:\n${spec.examples.map((example) => `  ${example}`).join('\n')}\n`);
  command.action(async (...args: unknown[]) => {
    const group = spec.argument ? (args[0] as string | undefined) : undefined;
    const options = (spec.argument ? args[1] : args[0]) as O & CommonRunbookOptions;
    const given = inputOption(options.input);
    if (options.requestedBy !== undefined || given?.requestedBy !== undefined) {
      // The two-person rule compares the approver with the requester: a requester one could write would defeat it.
      throw new CliError(
        `${options.requestedBy !== undefined ? '--requested-by' : 'input.requestedBy'} is not accepted: fogpilot records the identity of your Temporal connection as the requester.`,
        ExitCodes.usage,
        'Run `fogpilot whoami` to see it; leave the flag (or the field) out.',
      );
    }
    const input = mergeInput(given, {
      requestedBy: cliIdentity().label,
      reason: options.reason,
      ...spec.toInput(group, options),
    });
    await start(spec, input, options);
  });
  return command;
}

async function startRunbook<O>(
  spec: RunbookCommandSpec<O>,
  input: Record<string, unknown>,
  options: CommonRunbookOptions,
): Promise<void> {
  try {
    validateRunbookInput(spec.runbook, input);
  } catch (error) {
    if (error instanceof InvalidRunbookInputError) throw invalidInputError(error, spec.fieldFlags);
    throw error;
  }
  await withFogpilot(async (session) => {
    let started;
    try {
      started = await session.fogpilot.start(spec.runbook, input, {
        idempotencyKey: options.idempotencyKey,
        workflowId: options.workflowId,
      });
    } catch (error) {
      if (error instanceof InvalidRunbookInputError) throw invalidInputError(error, spec.fieldFlags);
      if (error instanceof WorkflowExecutionAlreadyStartedError) {
        throw new CliError(
          `A workflow with id ${options.workflowId ?? error.workflowId} is already running; nothing was started.`,
          ExitCodes.failure,
          `Follow it with \`fogpilot watch ${options.workflowId ?? error.workflowId}\`, or choose another --workflow-id.`,
        );
      }
      throw error;
    }
    const { workflowId, runId } = started;
    const progress = options.json ? stderr : stdout;
    if (!options.wait) {
      if (options.json) {
        stdout.write(`${JSON.stringify({ ...started, status: 'running', watch: `fogpilot watch ${workflowId}` })}\n`);
      } else {
        stdout.write(
          `${started.started ? 'Started' : 'Already started (same idempotency key)'}: ${spec.runbook}\n` +
            `  workflow id: ${workflowId}\n  run id:      ${runId}\n` +
            `  follow it:   fogpilot watch ${workflowId}\n`,
        );
      }
      return;
    }
    progress.write(
      `${started.started ? 'Started' : 'Following the run already started with this idempotency key'}: ` +
        `${spec.runbook} (workflow ${workflowId}, task queue ${session.taskQueue})\n` +
        `  Ctrl-C stops following; the run goes on (\`fogpilot watch ${workflowId}\` to follow it again).\n`,
    );
    const outcome = await followRunbook(session.fogpilot, workflowId, progress, { taskQueue: session.taskQueue });
    if (options.json) stdout.write(`${JSON.stringify({ ...outcomeJson(workflowId, outcome), runId })}\n`);
    else stdout.write(formatOutcome(workflowId, outcome));
    raiseForOutcome(workflowId, outcome);
  });
}
