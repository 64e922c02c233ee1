/**
 * Notifications on runbook events: signed JSON, Slack and Teams. Workflow code imports `./events` only (pure types
 * and constants); the rest runs in activities and receivers.
 */
export * from './events';
export * from './render';
export * from './signature';
export * from './deliver';
export * from './targets';
export { NotificationEndpointSchema, NotificationsSchema, type NotificationEndpoint } from './schema';
