/**
 * What a runbook tells the outside world, and when: the events fogpilot notifies on and the payload each carries.
 * Pure types and constants (no Node built-ins), so workflow code may import them to build a payload.
 */

/** The runbook events a notification endpoint can subscribe to (`notifications[].events`). */
export const NotificationEvents = {
  /** A runbook started (after its input was accepted). */
  started: 'started',
  /** A runbook is waiting for a person's approval. */
  awaitingApproval: 'awaitingApproval',
  /** The runbook is about to send the change it cannot take back (the failover request). */
  pointOfNoReturn: 'pointOfNoReturn',
  /** A runbook ended well. */
  succeeded: 'succeeded',
  /** A runbook ended failed (its report says why and what to do next). */
  failed: 'failed',
  /** fogpilot saw the group's roles switch without a fogpilot runbook asking: an Azure-initiated failover. */
  azureFailoverSeen: 'azureFailoverSeen',
} as const;
export type NotificationEvent = (typeof NotificationEvents)[keyof typeof NotificationEvents];

/** Every event, in the order above: the default of `notifications[].events`. */
export const NOTIFICATION_EVENTS = Object.values(NotificationEvents) as NotificationEvent[];

/** The message formats an endpoint receives (`notifications[].format`). */
export const NotificationFormats = {
  /** fogpilot's own signed JSON: the payload with `schemaVersion` and `deliveryId`. */
  json: 'json',
  /** A Slack incoming-webhook body (`text` and Block Kit `blocks`). */
  slack: 'slack',
  /** A Microsoft Teams message with an Adaptive Card (incoming webhooks and Workflows). */
  teams: 'teams',
} as const;
export type NotificationFormat = (typeof NotificationFormats)[keyof typeof NotificationFormats];

/** One objective against what the run measured: `met` is there only when both are known. */
export interface ObjectiveReading {
  targetMs: number;
  measuredMs?: number;
  met?: boolean;
}

/**
 * What one notification says, whatever the format. Built by the workflow (so it holds no secret: workflow inputs and
 * results never do) and handed to the delivery activity as it is; every attempt of that activity sends the same payload.
 */
export interface RunbookNotification {
  event: NotificationEvent;
  /** When the event happened, ISO 8601 (workflow time). */
  occurredAt: string;
  /** The workflow type: `plannedFailover`, `drDrill`, … */
  runbook: string;
  workflowId: string;
  runId?: string;
  /** The group as a person names it (its inventory name, or its Azure name). */
  group: string;
  /** A stable id for the group, when known (its ARM id). */
  groupId?: string;
  fromLocation?: string;
  toLocation?: string;
  /** The run's outcome, on `succeeded` and `failed` (`succeeded`, `failbackPending`, `failed`, …). */
  outcome?: string;
  /** One line a person reads: what happened and, when it failed, what to do next. */
  message: string;
  /** Small, secret-free JSON for receivers that act on it (a failure type, a report link). */
  details?: Record<string, unknown>;
  objectives?: { rto?: ObjectiveReading; rpo?: ObjectiveReading };
}

/** An objective reading: `met` when the measurement is at most the target; no verdict without a measurement. */
export function objectiveReading(targetMs: number, measuredMs?: number): ObjectiveReading {
  return measuredMs === undefined ? { targetMs } : { targetMs, measuredMs, met: measuredMs <= targetMs };
}
