/** Which endpoints a notification goes to: those subscribed to its event and, when they list groups, to its group. */
import type { FogpilotConfig } from '../config/config';
import type { NotificationEvent } from './events';
import type { NotificationEndpoint } from './schema';

/**
 * The endpoints that take `event` for the group of inventory name `inventoryName` (undefined for a group outside the
 * inventory: only endpoints that list no groups take it), in configuration order.
 */
export function notificationEndpointsFor(
  config: Pick<FogpilotConfig, 'notifications'>,
  event: NotificationEvent,
  inventoryName: string | undefined,
): NotificationEndpoint[] {
  return (config.notifications ?? []).filter(
    (endpoint) =>
      endpoint.events.includes(event) &&
      (endpoint.groups === undefined || (inventoryName !== undefined && endpoint.groups.includes(inventoryName))),
  );
}

/** An endpoint by name, as configured, or undefined. */
export function findNotificationEndpoint(
  config: Pick<FogpilotConfig, 'notifications'>,
  name: string,
): NotificationEndpoint | undefined {
  return (config.notifications ?? []).find((endpoint) => endpoint.name === name);
}
