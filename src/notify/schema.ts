/**
 * `notifications` in fogpilot.yaml: where runbook events are sent. A Slack or Teams incoming-webhook URL is itself a
 * secret, so an endpoint names the environment variable holding its URL (`urlEnv`); `url` is for receivers whose
 * address is not a secret. The HMAC key of signed JSON is always read from an environment variable (`secretEnv`).
 */
import { z } from 'zod';
import { boundedDuration, ENVIRONMENT_VARIABLE_NAME } from '../hooks/schema';
import { outboundUrlProblem } from '../hooks/urls';
import { NOTIFICATION_EVENTS, NotificationEvents, NotificationFormats } from './events';

const environmentVariable = (key: string, example: string) =>
  z.string().regex(ENVIRONMENT_VARIABLE_NAME, { error: `${key} must name an environment variable, e.g. ${example}` });

const FORMATS = Object.values(NotificationFormats);

export const NotificationEndpointSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, {
      error: 'name must be 1-63 lowercase letters, digits and hyphens, e.g. ops-slack',
    }),
    /** The receiver's URL, when it is not a secret. */
    url: z.string().optional(),
    /** The environment variable holding the receiver's URL (Slack and Teams webhook URLs are secrets). */
    urlEnv: environmentVariable('urlEnv', 'FOGPILOT_SLACK_WEBHOOK_URL').optional(),
    format: z.enum(NotificationFormats, { error: `format must be ${FORMATS.join(', ')}` }).default('json'),
    /** The environment variable holding the HMAC key the body is signed with (`X-Fogpilot-Signature`). */
    secretEnv: environmentVariable('secretEnv', 'FOGPILOT_NOTIFY_SECRET').optional(),
    events: z
      .array(z.enum(NotificationEvents, { error: `events lists some of ${NOTIFICATION_EVENTS.join(', ')}` }))
      .min(1, { error: 'events lists at least one event; leave it out for all of them' })
      .default(() => [...NOTIFICATION_EVENTS]),
    /** Inventory names; absent: every group (and runbooks on groups outside the inventory). */
    groups: z.array(z.string()).min(1, { error: 'groups lists at least one group; leave it out for all' }).optional(),
    timeout: boundedDuration('timeout', '10 seconds', 5 * 60_000, '5 minutes'),
  })
  .superRefine((endpoint, context) => {
    const issue = (key: string, message: string) => context.addIssue({ code: 'custom', path: [key], message });
    if ((endpoint.url === undefined) === (endpoint.urlEnv === undefined)) {
      issue(
        endpoint.url === undefined ? 'urlEnv' : 'url',
        endpoint.url === undefined
          ? 'say where to send: urlEnv (the environment variable holding the URL) or url'
          : 'give url or urlEnv, not both: keep urlEnv (the environment variable holding the URL) and remove url',
      );
    }
    if (endpoint.url !== undefined && endpoint.urlEnv === undefined) {
      if (endpoint.format !== 'json') {
        issue(
          'url',
          `a ${endpoint.format === 'slack' ? 'Slack' : 'Teams'} webhook URL is itself a secret and never goes in fogpilot.yaml: put it in an environment variable and name that in urlEnv`,
        );
      } else {
        const problem = outboundUrlProblem(
          'url',
          endpoint.url,
          'put the URL in an environment variable and name it in urlEnv',
        );
        if (problem) issue('url', problem);
      }
    }
    if (endpoint.format === 'json' && endpoint.secretEnv === undefined) {
      issue(
        'secretEnv',
        'format json is signed: name the environment variable holding the HMAC key in secretEnv (generate one with `openssl rand -hex 32`)',
      );
    }
    const repeated = endpoint.events.filter((event, index) => endpoint.events.indexOf(event) !== index);
    if (repeated.length > 0) issue('events', `events lists ${repeated.join(', ')} more than once`);
  });

/** `notifications`: endpoint names are unique. */
export const NotificationsSchema = z.array(NotificationEndpointSchema).superRefine((endpoints, context) => {
  endpoints.forEach((endpoint, index) => {
    if (endpoints.findIndex((other) => other.name === endpoint.name) !== index) {
      context.addIssue({
        code: 'custom',
        path: [index, 'name'],
        message: `the name ${endpoint.name} is used by an earlier endpoint; give each its own name`,
      });
    }
  });
});

/** One notification endpoint as parsed (`timeout` in ms, defaults applied). */
export type NotificationEndpoint = z.output<typeof NotificationEndpointSchema>;

/** The problems of endpoints whose `groups` name no inventory entry, each naming its key. */
export function unknownNotificationGroups(endpoints: readonly NotificationEndpoint[], inventory: readonly string[]) {
  const problems: string[] = [];
  endpoints.forEach((endpoint, index) => {
    for (const group of endpoint.groups ?? []) {
      if (!inventory.includes(group)) {
        problems.push(
          `notifications.${index}.groups: ${group} is not in the inventory (${inventory.length > 0 ? `it has ${inventory.join(', ')}` : 'it is empty'}); list inventory names`,
        );
      }
    }
  });
  return problems;
}
