/**
 * The environment variables fogpilot itself reads, each named once here with what it sets. The code reads them with
 * {@link fogpilotVariable}, whose `name` admits only these, and lint refuses `env.FOGPILOT_…` anywhere else: a variable
 * the code reads is always on this list. Not listed: the variables a configuration names for SQL logins (`userEnv`,
 * `passwordEnv`), and those the Temporal and Azure SDKs read (TEMPORAL_*, AZURE_*).
 */
export const FOGPILOT_VARIABLES = {
  FOGPILOT_CONFIG: 'Path of fogpilot.yaml (default: ./fogpilot.yaml when it exists).',
  FOGPILOT_TASK_QUEUE: 'The task queue runbooks run on (default: fogpilot); overrides temporal.taskQueue.',
  FOGPILOT_ARM_ENDPOINT: 'The ARM endpoint; overrides azure.armEndpoint and the cloud default.',
  FOGPILOT_AZURE_CREDENTIAL: '`default` or `emulator`; overrides azure.credential.',
  FOGPILOT_CA_FILE:
    "A CA certificate (PEM) to trust for ARM and SQL (the emulator's --ca-file); overrides azure.caFile.",
  FOGPILOT_LOG_LEVEL: 'Log level (default: info).',
  FOGPILOT_LOG_FORMAT: '`json`, `pretty` or `auto` (pretty on a terminal, JSON otherwise).',
  FOGPILOT_METRICS_PORT: "The worker's Prometheus port (default: 9464; 0 turns metrics off).",
  FOGPILOT_METRICS_HOST: 'The address the metrics endpoint listens on (default: 0.0.0.0).',
  FOGPILOT_WEBHOOK_HMAC_SECRET: 'The HTTP trigger: the shared secret callers sign requests with.',
  FOGPILOT_WEBHOOK_TOKEN: 'The HTTP trigger: the bearer token callers send.',
  FOGPILOT_PAYLOAD_KEYS:
    'Encrypts Temporal payloads (AES-256-GCM): comma-separated keyId:base64key (32-byte keys, `openssl rand -base64 32`), newest first.',
  FOGPILOT_CODEC_TOKEN:
    '`fogpilot codec-server`: the bearer token callers (Temporal UI proxy, Temporal CLI) must send.',
  FOGPILOT_TEMPORAL_CLI: 'Path of the Temporal CLI the demo starts a dev server with (default: .tools/bin, PATH).',
  FOGPILOT_TEMPORAL_TEST_SERVER: 'Path of temporal-test-server for tests (default: .tools/bin, PATH).',
  FOGPILOT_DEMO_OUTPUT: '`npm run demo`: the directory its reports are written to (default: reports/).',
} as const satisfies Record<`FOGPILOT_${string}`, string>;

/** The name of one of fogpilot's environment variables. */
export type FogpilotVariable = keyof typeof FOGPILOT_VARIABLES;

/** Every variable fogpilot reads, in the order above. */
export const FOGPILOT_VARIABLE_NAMES = Object.keys(FOGPILOT_VARIABLES) as FogpilotVariable[];

/** The value of one of fogpilot's variables as set (untrimmed), or undefined when unset. */
export function fogpilotVariable(name: FogpilotVariable, env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[name];
}
