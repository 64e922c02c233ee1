/** The HTTP trigger for incident tooling: `createWebhookServer` and the request-signing helpers callers can reuse. */
export * from './auth';
export * from './requests';
export * from './server';
export * from './settings';
