/**
 * A notification as each kind of receiver takes it: fogpilot's JSON, a Slack incoming-webhook body, or a Teams message
 * with an Adaptive Card. Each carries only what the payload carries, which holds no secret.
 */
import { createHash } from 'node:crypto';
import { formatDuration } from '../domain/durations';
import type { NotificationEvent, NotificationFormat, ObjectiveReading, RunbookNotification } from './events';

/** The version of the JSON body's shape; a receiver checks it before reading further. */
export const NOTIFICATION_SCHEMA_VERSION = 1;

/** fogpilot's JSON body: the payload, its schema version and its delivery id. */
export type NotificationJsonBody = RunbookNotification & {
  schemaVersion: typeof NOTIFICATION_SCHEMA_VERSION;
  deliveryId: string;
};

export interface RenderNotificationOptions {
  /** The delivery id (default: {@link notificationDeliveryId} of the payload). */
  deliveryId?: string;
}

const TITLES: Record<NotificationEvent, string> = {
  started: 'started',
  awaitingApproval: 'is waiting for approval',
  pointOfNoReturn: 'reached the point of no return',
  succeeded: 'succeeded',
  failed: 'failed',
  azureFailoverSeen: 'Azure-initiated failover seen',
};

const SLACK_EMOJI: Record<NotificationEvent, string> = {
  started: ':arrow_forward:',
  awaitingApproval: ':hourglass_flowing_sand:',
  pointOfNoReturn: ':warning:',
  succeeded: ':white_check_mark:',
  failed: ':x:',
  azureFailoverSeen: ':rotating_light:',
};

/** Adaptive Card `TextBlock.color` per event. */
const TEAMS_COLOR: Record<NotificationEvent, string> = {
  started: 'Accent',
  awaitingApproval: 'Warning',
  pointOfNoReturn: 'Warning',
  succeeded: 'Good',
  failed: 'Attention',
  azureFailoverSeen: 'Attention',
};

/**
 * A delivery id that is the same on every attempt to send the same payload to the same endpoint (a UUID made from a
 * SHA-256 of both), so a receiver can drop the repeat a retried delivery brings.
 */
export function notificationDeliveryId(payload: RunbookNotification, endpointName = ''): string {
  const hex = createHash('sha256')
    .update(JSON.stringify([endpointName, payload]))
    .digest('hex');
  // UUID version 8 (custom), RFC 9562 variant.
  const variant = ((parseInt(hex[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** The headline: `plannedFailover on fog-sales failed`; an Azure-initiated failover is not a runbook's. */
export function notificationTitle(payload: RunbookNotification): string {
  return payload.event === 'azureFailoverSeen'
    ? `${payload.group}: ${TITLES.azureFailoverSeen}`
    : `${payload.runbook} on ${payload.group} ${TITLES[payload.event]}`;
}

/** The payload's message as one line of at most `max` characters. */
function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= max ? line : `${line.slice(0, max - 1)}…`;
}

function objectiveText(reading: ObjectiveReading): string {
  const target = `target ${formatDuration(reading.targetMs)}`;
  if (reading.measuredMs === undefined) return `${target}, not measured`;
  return `${formatDuration(reading.measuredMs)} (${target}): ${reading.met ? 'met' : 'missed'}`;
}

/** The facts both chat formats show, as label and plain text, in order. */
function facts(payload: RunbookNotification): [string, string][] {
  const rows: [string, string][] = [
    ['Runbook', payload.runbook],
    ['Group', payload.group],
  ];
  if (payload.fromLocation !== undefined || payload.toLocation !== undefined) {
    rows.push(['Regions', `${payload.fromLocation ?? '?'} → ${payload.toLocation ?? '?'}`]);
  }
  if (payload.outcome !== undefined) rows.push(['Outcome', payload.outcome]);
  if (payload.objectives?.rto) rows.push(['RTO', objectiveText(payload.objectives.rto)]);
  if (payload.objectives?.rpo) rows.push(['RPO', objectiveText(payload.objectives.rpo)]);
  rows.push(['Workflow', payload.workflowId]);
  return rows;
}

/** Slack mrkdwn treats &, < and > as control characters; everything else is shown as written. */
function slackEscape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * A Slack incoming-webhook body: `text` (the notification's and the fallback's line) and Block Kit `blocks`: a section
 * with the headline and message, a section of fields, a context line. Slack's limits, from
 * https://api.slack.com/reference/block-kit/blocks (section text 3000 characters, at most 10 fields of 2000 each; a
 * context block at most 10 elements) and https://api.slack.com/messaging/webhooks (a POST of JSON with `text` and/or
 * `blocks`; with blocks, `text` is what notifications show).
 */
function renderSlack(payload: RunbookNotification): Record<string, unknown> {
  const title = `${SLACK_EMOJI[payload.event]} ${notificationTitle(payload)}`;
  const message = oneLine(payload.message, 2000);
  return {
    text: slackEscape(oneLine(`${title}: ${message}`, 3000)),
    blocks: [
      {
        type: 'section',
        text: { type: 'mrkdwn', text: slackEscape(oneLine(`*${title}*`, 1000)) + '\n' + slackEscape(message) },
      },
      {
        type: 'section',
        fields: facts(payload)
          .slice(0, 10)
          .map(([label, value]) => ({ type: 'mrkdwn', text: `*${label}*\n${slackEscape(oneLine(value, 1900))}` })),
      },
      {
        type: 'context',
        elements: [{ type: 'mrkdwn', text: slackEscape(`fogpilot · ${payload.event} · ${payload.occurredAt}`) }],
      },
    ],
  };
}

/**
 * A Teams message carrying one Adaptive Card, in the shape Microsoft documents for incoming webhooks, which the Teams
 * Workflows app ("When a Teams webhook request is received") also takes (Workflows accept Adaptive Cards only, not the
 * connectors' MessageCard): `type: message`, one attachment of `contentType: application/vnd.microsoft.card.adaptive`,
 * `contentUrl: null`, the card in `content`. Source: "Send Adaptive Cards using an Incoming Webhook",
 * https://learn.microsoft.com/en-us/microsoftteams/platform/webhooks-and-connectors/how-to/connectors-using#send-adaptive-cards-using-an-incoming-webhook
 * (its example card is version 1.2; TextBlock and FactSet are in 1.0). Messages are limited to 28 KB.
 */
function renderTeams(payload: RunbookNotification): Record<string, unknown> {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.2',
          body: [
            {
              type: 'TextBlock',
              text: oneLine(notificationTitle(payload), 500),
              weight: 'Bolder',
              size: 'Medium',
              color: TEAMS_COLOR[payload.event],
              wrap: true,
            },
            { type: 'TextBlock', text: oneLine(payload.message, 2000), wrap: true },
            { type: 'FactSet', facts: facts(payload).map(([title, value]) => ({ title, value: oneLine(value, 500) })) },
            {
              type: 'TextBlock',
              text: `fogpilot · ${payload.event} · ${payload.occurredAt}`,
              isSubtle: true,
              size: 'Small',
              wrap: true,
            },
          ],
        },
      },
    ],
  };
}

/**
 * The HTTP body (as an object, to be JSON-serialized) of `payload` for a receiver of `format`: `json` is the payload
 * with `schemaVersion: 1` and its `deliveryId`; `slack` an incoming-webhook body; `teams` an Adaptive Card message.
 */
export function renderNotification(
  payload: RunbookNotification,
  format: NotificationFormat,
  options: RenderNotificationOptions = {},
): Record<string, unknown> {
  switch (format) {
    case 'json':
      return {
        schemaVersion: NOTIFICATION_SCHEMA_VERSION,
        deliveryId: options.deliveryId ?? notificationDeliveryId(payload),
        ...payload,
        message: oneLine(payload.message, 2000),
      } satisfies NotificationJsonBody;
    case 'slack':
      return renderSlack(payload);
    case 'teams':
      return renderTeams(payload);
  }
}
