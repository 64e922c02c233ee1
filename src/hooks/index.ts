/**
 * Hooks: HTTP steps before a runbook's first change and after its database switch. Workflow code imports `./types`
 * only (pure types and constants); the rest runs in activities and the starter.
 */
export * from './types';
export * from './plan';
export * from './run';
export {
  OutboundFailureKinds,
  OutboundFailureTypes,
  OutboundRequestError,
  isRetryableOutboundError,
  isRetryableStatus,
  type OutboundFailureKind,
  type OutboundFailureType,
} from './outbound';
export type { AfterHookConfig, BeforeHookConfig, HookConfig, HooksConfig, ObjectivesConfig } from './schema';
