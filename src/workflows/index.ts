/** Every workflow fogpilot registers (the worker's `workflowsPath`). Exported names are the public workflow types. */
export { plannedFailover } from './planned-failover';
export { failback } from './failback';
export { forcedFailover } from './forced-failover';
export { readinessCheck } from './readiness-check';
export { scaleGroup } from './scale-group';
export { drDrill } from './dr-drill';
export { fleetFailover } from './fleet-failover';
export { establishGroup } from './establish-group';
export { watchGroups } from './watch-groups';
export { deliverNotifications } from './deliver-notifications';
export { reprotect } from './reprotect';
export { restoreDatabase } from './restore-database';
export { protectWorkload } from './protect-workload';
