/** The HTTP trigger for incident tooling: `createWebhookServer` and the request-signing helpers callers can reuse. */
export * from './auth';
export * from './authorize';
export * from './rate-limit';
export * from './replay-store';
export * from './requests';
export * from './server';
export * from './settings';
