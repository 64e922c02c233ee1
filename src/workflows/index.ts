/** Every workflow fogpilot registers (the worker's `workflowsPath`). Exported names are the public workflow types. */
export { plannedFailover } from './planned-failover';
export { failback } from './failback';
