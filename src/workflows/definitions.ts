/**
 * fogpilot's public contracts: workflow type names, messages, failure types and the shapes of status and reports.
 *
 * This module and the ones it gathers (`./contracts/`, one per concern) import nothing that runs only inside a
 * workflow, so the CLI, the HTTP trigger and typed clients import them without pulling in workflow code. Names here
 * are public API: never rename them.
 *
 * - `runbooks`: workflow type names, the task queue, input types;
 * - `messages`: the signals people send (approve, reject, abort);
 * - `outcomes`: outcomes and failure types;
 * - `records`: the report's building blocks (steps, gates, legs, approvals);
 * - `report-sections`: the parts of a report that belong to one kind of runbook;
 * - `results`: the report, a fleet child's summary, the live status and the query that reads it;
 * - `watch`: what `watchGroups` knows of its groups and the changes it saw, and its `watchStatus` query.
 */
export * from './contracts/runbooks';
export * from './contracts/messages';
export * from './contracts/outcomes';
export * from './contracts/records';
export * from './contracts/report-sections';
export * from './contracts/results';
export * from './contracts/watch';
