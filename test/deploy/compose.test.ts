/**
 * docker-compose.yml, the Dockerfile and the files the stack mounts, checked without Docker: the compose file against
 * the Compose Specification's JSON schema (as shipped by the dclint package), then the shape fogpilot depends on, the
 * environment against what the code reads, the mounted configuration through fogpilot's own loader, and the emulator
 * profile against a running emulator.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import Ajv from 'ajv';
import { loadClientConnectConfig } from '@temporalio/envconfig';
import { parseDocument } from 'yaml';
import { loadConfig, type FogpilotConfig } from '../../src/config/config';
import { FOGPILOT_VARIABLE_NAMES, type FogpilotVariable } from '../../src/config/environment';
import { metricsBindAddressFromEnvironment } from '../../src/runtime';
import { startEmulator, type Emulator } from '../../src/emulator';
import { FOGPILOT_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import { repoRoot as root } from '../support/repo';
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

// ---------------------------------------------------------------------------------------------------------------------
// The compose file as Compose reads it: YAML with merge keys, then variables interpolated.

type Environment = Record<string, string>;
interface Dependency {
  condition?: string;
}
interface Service {
  image?: string;
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Environment | string[];
  healthcheck?: { test?: string | string[]; disable?: boolean };
  depends_on?: string[] | Record<string, Dependency>;
  profiles?: string[];
  restart?: string;
  ports?: (string | number | { target?: number | string; published?: number | string })[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
  configs?: (string | { source: string; target?: string })[];
  deploy?: { replicas?: number | string };
  container_name?: string;
  secrets?: (string | { source: string; target?: string })[];
  expose?: (string | number)[];
}
interface Compose {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { file?: string }>;
  secrets?: Record<string, { file?: string; environment?: string }>;
}

/** Compose's interpolation: `$$`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`, `${VAR:?error}`, `${VAR:+alt}`. */
function interpolate<T>(value: T, env: Environment): T {
  if (typeof value === 'string') {
    return value.replace(
      /\$(?:(\$)|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g,
      (_match, dollar?: string, name?: string, operator?: string, given?: string, bare?: string): string => {
        const argument = given ?? '';
        if (dollar) return '$';
        if (bare) return env[bare] ?? '';
        const set = operator?.startsWith(':') ? Boolean(env[name!]) : env[name!] !== undefined;
        switch (operator?.replace(':', '')) {
          case '-':
            return set ? env[name!]! : argument;
          case '?':
            if (!set) throw new Error(`\${${name}} is required: ${argument}`);
            return env[name!]!;
          case '+':
            return set ? argument : '';
          default:
            return env[name!] ?? '';
        }
      },
    ) as T;
  }
  if (Array.isArray(value)) return value.map((item: unknown) => interpolate(item, env)) as T;
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, interpolate(item, env)])) as T;
  return value;
}

function parseCompose(text: string, env: Environment = {}): unknown {
  const document = parseDocument(text, { merge: true });
  assert.deepEqual(document.errors, [], 'docker-compose.yml is not valid YAML');
  assert.deepEqual(document.warnings, [], 'docker-compose.yml has YAML warnings');
  return interpolate(document.toJS() as unknown, env);
}

/** The variables `.env.example` lists (set or commented out), with the values it gives (empty for most). */
function exampleEnvironment(): Environment {
  return Object.fromEntries(
    [...read('.env.example').matchAll(/^#?\s*([A-Z][A-Z0-9_]*)=(.*)$/gm)].map(([, name, value]) => [name!, value!]),
  );
}

/** A `.env` made from `.env.example` as its comments say: every required value filled in, nothing else. */
const FILLED_ENV: Environment = { POSTGRES_PASSWORD: 'from-the-users-env-file', FOGPILOT_PAYLOAD_KEYS: 'k:AAAA' };

/** The stack as `docker compose up` sees it with the user's `.env` holding only the required values. */
const loadCompose = (): Compose => parseCompose(read('docker-compose.yml'), FILLED_ENV) as Compose;

const environmentOf = (service: Service): Environment =>
  Array.isArray(service.environment)
    ? Object.fromEntries(
        service.environment.map((entry) => [entry.split('=')[0]!, entry.split('=').slice(1).join('=')]),
      )
    : { ...(service.environment ?? {}) };

const dependenciesOf = (service: Service): Record<string, Dependency> =>
  Array.isArray(service.depends_on)
    ? Object.fromEntries(service.depends_on.map((name) => [name, {}]))
    : (service.depends_on ?? {});

const commandOf = (service: Service): string[] =>
  typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);

/** Built from this repository's Dockerfile: such a service inherits its HEALTHCHECK and its CMD. */
const isFogpilotImage = (service: Service): boolean =>
  service.build === '.' ||
  (typeof service.build === 'object' && (service.build.context ?? '.') === '.' && !service.build.dockerfile);

/** One-shot jobs (`restart: "no"`) run to completion; everything else is meant to stay up. */
const isOneShot = (service: Service): boolean => service.restart === 'no';

/** The host file behind a path mounted into the service (a top-level config or a bind mount), if any. */
function mountedFile(compose: Compose, service: Service, target: string): string | undefined {
  for (const entry of service.configs ?? []) {
    const source = typeof entry === 'string' ? entry : entry.source;
    const mountedAt = typeof entry === 'string' ? `/${entry}` : (entry.target ?? `/${entry.source}`);
    if (mountedAt === target) return compose.configs?.[source]?.file;
  }
  for (const entry of service.volumes ?? []) {
    const [source, mountedAt] = typeof entry === 'string' ? entry.split(':') : [entry.source, entry.target];
    if (mountedAt === target && source?.startsWith('.')) return source;
  }
  return undefined;
}

const REQUIRED_SERVICES = [
  'postgresql',
  'temporal-schema',
  'temporal',
  'temporal-setup',
  'temporal-ui',
  'worker',
  'emulator',
  'worker-emulator',
];
const EMULATOR_PROFILE_SERVICES = ['emulator', 'worker-emulator'];
const WORKERS = ['worker', 'worker-emulator'];
const RESTART_POLICY = /^(no|always|unless-stopped|on-failure(:\d+)?)$/;

/**
 * What must hold for the stack to come up in order and stay up; one sentence per problem. A function of the parsed
 * file, so the tests below can show it catches a broken variant.
 */
function stackProblems(compose: Compose, dockerfileHasHealthcheck: boolean): string[] {
  const problems: string[] = [];
  const services = compose.services;
  for (const name of REQUIRED_SERVICES) if (!services[name]) problems.push(`service ${name} is missing`);

  for (const [name, service] of Object.entries(services)) {
    if (service.restart !== undefined && !RESTART_POLICY.test(service.restart))
      problems.push(`${name}: restart "${service.restart}" is not a restart policy`);
    if (!isOneShot(service) && service.restart === undefined)
      problems.push(`${name}: a long-running service needs a restart policy`);
    const ownCheck = service.healthcheck && !service.healthcheck.disable && service.healthcheck.test;
    if (!isOneShot(service) && !ownCheck && !(isFogpilotImage(service) && dockerfileHasHealthcheck))
      problems.push(`${name}: a long-running service has no healthcheck`);

    for (const [dependencyName, dependency] of Object.entries(dependenciesOf(service))) {
      const target = services[dependencyName];
      if (!target) {
        problems.push(`${name} depends on ${dependencyName}, which does not exist`);
        continue;
      }
      const expected = isOneShot(target) ? 'service_completed_successfully' : 'service_healthy';
      if (dependency.condition !== expected)
        problems.push(
          `${name} must wait for ${dependencyName} with condition ${expected}, not ${dependency.condition}`,
        );
      const ownProfiles = service.profiles ?? [];
      if ((target.profiles ?? []).some((profile) => !ownProfiles.includes(profile)))
        problems.push(
          `${name} depends on ${dependencyName}, which runs only in profiles ${target.profiles?.join(', ')}`,
        );
    }
  }

  for (const name of Object.keys(services)) {
    const inProfile = EMULATOR_PROFILE_SERVICES.includes(name);
    const profiles = services[name]!.profiles ?? [];
    if (inProfile && profiles.join() !== 'emulator') problems.push(`${name} must run in the emulator profile only`);
    if (!inProfile && profiles.length > 0) problems.push(`${name} must run without a profile`);
  }

  const postgresql = services.postgresql;
  if (postgresql) {
    const data = (postgresql.volumes ?? []).find((entry) =>
      typeof entry === 'string'
        ? entry.endsWith(':/var/lib/postgresql/data')
        : entry.target === '/var/lib/postgresql/data',
    );
    const volume = typeof data === 'string' ? data.split(':')[0] : data?.source;
    if (!volume || !compose.volumes || !(volume in compose.volumes))
      problems.push('postgresql must keep /var/lib/postgresql/data in a named volume');
  }
  const temporal = services.temporal;
  if (temporal) {
    const env = environmentOf(temporal);
    if (!['postgres12', 'postgres12_pgx'].includes(env.DB ?? ''))
      problems.push('temporal must use PostgreSQL (DB=postgres12)');
    if (env.POSTGRES_SEEDS !== 'postgresql')
      problems.push('temporal must reach the postgresql service (POSTGRES_SEEDS)');
  }
  const ui = services['temporal-ui'];
  if (ui) {
    if (environmentOf(ui).TEMPORAL_ADDRESS !== 'temporal:7233') problems.push('temporal-ui must talk to temporal:7233');
    if (!(ui.ports ?? []).some((port) => String(typeof port === 'object' ? port.published : port).match(/8080:8080$/)))
      problems.push('temporal-ui must publish port 8080');
  }

  for (const name of WORKERS) {
    const worker = services[name];
    if (!worker) continue;
    const env = environmentOf(worker);
    if (!isFogpilotImage(worker)) problems.push(`${name} must be built from this repository's Dockerfile`);
    if (commandOf(worker).join(' ') !== 'node bin/fogpilot.js worker') problems.push(`${name} must run the worker`);
    if (env.TEMPORAL_ADDRESS !== 'temporal:7233') problems.push(`${name} must connect to temporal:7233`);
    if (!env.FOGPILOT_CONFIG || !mountedFile(compose, worker, env.FOGPILOT_CONFIG))
      problems.push(`${name}: FOGPILOT_CONFIG must name a file mounted from this repository`);
    if (worker.container_name) problems.push(`${name}: a container_name prevents replicas`);
  }
  const worker = services.worker;
  if (worker && !(Number(worker.deploy?.replicas) >= 2))
    problems.push('worker must run at least two replicas by default (deploy.replicas)');
  return problems;
}

// ---------------------------------------------------------------------------------------------------------------------
// The Dockerfile, instruction by instruction.

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name?: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/);
  const args: Record<string, string> = {};
  const stages: Stage[] = [];
  for (const line of lines) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const [, keyword = '', rest = ''] = /^(\S+)\s*(.*)$/.exec(trimmed) ?? [];
    const instruction = { keyword: keyword.toUpperCase(), args: rest.replace(/\s+/g, ' ') };
    if (instruction.keyword === 'ARG' && stages.length === 0) {
      const [name, value = ''] = rest.split('=');
      args[name!.trim()] = value.trim();
    } else if (instruction.keyword === 'FROM') {
      const [image = '', , name] = rest.replace(/--platform=\S+\s+/, '').split(/\s+/);
      stages.push({
        from: image.replace(/\$\{?(\w+)\}?/g, (_m, arg: string) => args[arg] ?? ''),
        name,
        instructions: [],
      });
    } else {
      stages.at(-1)?.instructions.push(instruction);
    }
  }
  return stages;
}

const jsonForm = (args: string): string[] | undefined => {
  try {
    const parsed: unknown = JSON.parse(args);
    return Array.isArray(parsed) ? parsed.map(String) : undefined;
  } catch {
    return undefined;
  }
};

/** `.dockerignore` as Docker applies it to a top-level entry of the context: the last matching pattern decides. */
function ignoredByDocker(patterns: string[], entry: string): boolean {
  let ignored = false;
  for (const raw of patterns) {
    const negated = raw.startsWith('!');
    const pattern = raw.replace(/^!/, '').replace(/^\/+|\/+$/g, '');
    const regex = new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*')}$`);
    if (regex.test(entry)) ignored = !negated;
  }
  return ignored;
}

// ---------------------------------------------------------------------------------------------------------------------
// What the code reads from its environment.

function sourceText(dir: string, extensions: string[]): string {
  let text = '';
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) text += sourceText(full, extensions);
    else if (extensions.some((extension) => entry.name.endsWith(extension))) text += readFileSync(full, 'utf8');
  }
  return text;
}

const packageDir = (name: string) => path.dirname(require.resolve(`${name}/package.json`));
const azureIdentityCode = sourceText(path.join(packageDir('@azure/identity'), 'dist', 'commonjs'), ['.js']);
/** Whether something reads a variable, for each family of variables a fogpilot container is given. */
const readers: Record<string, (variable: string) => boolean> = {
  // fogpilot's own: the list every read in src goes through.
  FOGPILOT_: (variable) => FOGPILOT_VARIABLE_NAMES.includes(variable as FogpilotVariable),
  // The Temporal connection settings: read when setting the variable changes what the SDK would connect with.
  TEMPORAL_: (variable) =>
    JSON.stringify(loadClientConnectConfig({ overrideEnvVars: { [variable]: 'compose-test-value' } })) !==
    JSON.stringify(loadClientConnectConfig({ overrideEnvVars: {} })),
  // Read by DefaultAzureCredential (EnvironmentCredential and friends): named in @azure/identity's code.
  AZURE_: (variable) => new RegExp(`\\b${variable}\\b`).test(azureIdentityCode),
};

/** The variables a configuration names for SQL logins (the worker reads them, and them only, at login). */
function sqlLoginVariables(config: FogpilotConfig): string[] {
  const auths = [config.sql.auth, ...Object.values(config.inventory).map((entry) => entry.sql)];
  return auths.flatMap((auth) => (auth?.auth === 'sql-login' ? [auth.userEnv, auth.passwordEnv] : []));
}

function loadMountedConfig(compose: Compose, name: string): { config: FogpilotConfig; env: Environment } {
  const service = compose.services[name]!;
  const env = environmentOf(service);
  const file = mountedFile(compose, service, env.FOGPILOT_CONFIG!);
  assert.ok(file, `${name}: FOGPILOT_CONFIG (${env.FOGPILOT_CONFIG}) is not mounted from this repository`);
  return { config: loadConfig({ path: path.join(root, file), env }), env };
}

// ---------------------------------------------------------------------------------------------------------------------

describe('docker-compose.yml', () => {
  it('is a valid Compose file by the Compose Specification schema', () => {
    const schemaFile = path.join(packageDir('dclint'), 'schemas', 'compose.schema.json');
    const schema = JSON.parse(readFileSync(schemaFile, 'utf8')) as Record<string, unknown>;
    assert.equal(schema.title, 'Compose Specification');
    // The file names draft-07 by its https address; Ajv knows draft-07 by its canonical one.
    schema.$schema = 'http://json-schema.org/draft-07/schema#';
    const validate = new Ajv({ allErrors: true, allowUnionTypes: true }).compile(schema);

    const valid = validate(loadCompose());
    assert.equal(valid, true, JSON.stringify(validate.errors, null, 2));

    const broken = loadCompose();
    broken.services.worker!.depends_on = { temporal: { condition: 'service_ready' } };
    assert.equal(validate(broken), false, 'the schema accepted an unknown depends_on condition');
  });

  it('needs only the secrets .env.example lists: each required with `:?` and a message naming .env.example, every other variable defaulted', () => {
    const text = read('docker-compose.yml');
    // `$${…}` is the container's own, escaped from Compose.
    const references = [...text.matchAll(/(?<!\$)\$(?:\{([A-Za-z_]\w*)(:?[-?+])?([^}]*)\}|([A-Za-z_]\w*))/g)];
    const required = references.filter(([, , operator]) => operator === ':?');
    assert.deepEqual([...new Set(required.map(([, name]) => name))].sort(), Object.keys(FILLED_ENV).sort());
    for (const [reference, , , message] of required) assert.match(message!, /\.env\.example/, reference);
    const neither = references
      .filter(([, , operator]) => operator !== '-' && operator !== ':-' && operator !== ':?')
      .map(([reference]) => reference);
    assert.deepEqual(neither, [], 'every other variable has a default');
    const example = exampleEnvironment();
    for (const name of Object.keys(FILLED_ENV)) {
      assert.equal(example[name], '', `.env.example lists ${name} with no value: no default password ships`);
    }
    // Copied as it is, without filling it in, the file stops `docker compose up`, naming the variable.
    assert.throws(
      () => parseCompose(text, example),
      /is required: set (POSTGRES_PASSWORD|FOGPILOT_PAYLOAD_KEYS) in \.env/,
    );
    for (const [name, value] of Object.entries(FILLED_ENV)) {
      const missing = Object.keys(FILLED_ENV).find((other) => other !== name)!;
      assert.throws(
        () => parseCompose(text, { ...example, [name]: value }),
        new RegExp(`\\$\\{${missing}\\} is required: set ${missing} in \\.env \\(cp \\.env\\.example \\.env`),
      );
    }
    const compose = parseCompose(text, FILLED_ENV) as Compose;
    assert.equal(environmentOf(compose.services.postgresql!).POSTGRES_PASSWORD, FILLED_ENV.POSTGRES_PASSWORD);
    assert.equal(Number(compose.services.worker?.deploy?.replicas), 2);
    assert.deepEqual(compose.services.postgresql?.healthcheck?.test, [
      'CMD-SHELL',
      'pg_isready -h 127.0.0.1 -U "${POSTGRES_USER}" -d postgres',
    ]);
    const overridden = parseCompose(read('docker-compose.yml'), {
      ...FILLED_ENV,
      FOGPILOT_WORKER_REPLICAS: '5',
    }) as Compose;
    assert.equal(overridden.services.worker?.deploy?.replicas, '5');
  });

  it('starts each service only once what it needs is healthy or done, and keeps every long-running one checked', () => {
    const dockerfile = parseDockerfile(read('Dockerfile'));
    const hasHealthcheck = dockerfile.at(-1)!.instructions.some((instruction) => instruction.keyword === 'HEALTHCHECK');
    assert.deepEqual(stackProblems(loadCompose(), hasHealthcheck), []);
  });

  it('catches a service that lost its healthcheck, a dependency started too early and a missing service', () => {
    const noHealthcheck = loadCompose();
    delete noHealthcheck.services.postgresql!.healthcheck;
    assert.deepEqual(stackProblems(noHealthcheck, true), ['postgresql: a long-running service has no healthcheck']);

    const tooEarly = loadCompose();
    tooEarly.services.worker!.depends_on = { temporal: { condition: 'service_started' } };
    assert.deepEqual(stackProblems(tooEarly, true), [
      'worker must wait for temporal with condition service_healthy, not service_started',
    ]);

    const noSetup = loadCompose();
    delete noSetup.services['temporal-setup'];
    assert.ok(stackProblems(noSetup, true).includes('service temporal-setup is missing'));

    const emulatorForEveryone = loadCompose();
    emulatorForEveryone.services.worker!.depends_on = { emulator: { condition: 'service_healthy' } };
    assert.ok(
      stackProblems(emulatorForEveryone, true).includes(
        'worker depends on emulator, which runs only in profiles emulator',
      ),
    );
  });

  it("gives fogpilot's containers only variables the code reads, and the rehearsal worker no Azure credential", () => {
    const compose = loadCompose();
    for (const name of ['worker', 'worker-emulator', 'emulator']) {
      const service = compose.services[name]!;
      const env = environmentOf(service);
      const named = env.FOGPILOT_CONFIG ? sqlLoginVariables(loadMountedConfig(compose, name).config) : [];
      for (const variable of Object.keys(env)) {
        const family = Object.keys(readers).find((prefix) => variable.startsWith(prefix));
        if (family) {
          assert.ok(readers[family]!(variable), `${name}: nothing reads ${variable}`);
        } else {
          assert.ok(
            named.includes(variable),
            `${name}: ${variable} is neither read by the code nor named by its config`,
          );
        }
      }
      for (const variable of named) assert.ok(env[variable], `${name}: its config names ${variable}, which is unset`);
    }
    const rehearsal = environmentOf(compose.services['worker-emulator']!);
    assert.deepEqual(
      Object.keys(rehearsal).filter((variable) => variable.startsWith('AZURE_')),
      [],
    );
    const production = environmentOf(compose.services.worker!);
    for (const variable of ['AZURE_TENANT_ID', 'AZURE_CLIENT_ID'])
      assert.equal(production[variable], '', `${variable} is a placeholder filled from the host's environment`);
  });

  it('gives the Azure workers a certificate through a secret file, never a client secret in the environment', () => {
    const compose = loadCompose();
    for (const [name, service] of Object.entries(compose.services)) {
      assert.ok(
        !('AZURE_CLIENT_SECRET' in environmentOf(service)),
        `${name} takes AZURE_CLIENT_SECRET from the environment`,
      );
    }
    const worker = compose.services.worker!;
    assert.equal(environmentOf(worker).AZURE_CLIENT_CERTIFICATE_PATH, '/run/secrets/azure-client-certificate');
    assert.deepEqual(worker.secrets, ['azure-client-certificate']);
    assert.equal(compose.secrets?.['azure-client-certificate']?.file, '/dev/null', 'no certificate: the host identity');
    const withFile = parseCompose(read('docker-compose.yml'), {
      ...FILLED_ENV,
      AZURE_CLIENT_CERTIFICATE_FILE: './deploy/secrets/azure-client.pem',
    }) as Compose;
    assert.equal(withFile.secrets?.['azure-client-certificate']?.file, './deploy/secrets/azure-client.pem');
    assert.ok(!('AZURE_CLIENT_SECRET' in environmentOf(compose.services['worker-emulator']!)));
  });

  it('keeps the Temporal UI read-only unless TEMPORAL_UI_DISABLE_WRITE_ACTIONS=false', () => {
    assert.equal(environmentOf(loadCompose().services['temporal-ui']!).TEMPORAL_DISABLE_WRITE_ACTIONS, 'true');
    const writable = parseCompose(read('docker-compose.yml'), {
      ...FILLED_ENV,
      TEMPORAL_UI_DISABLE_WRITE_ACTIONS: 'false',
    }) as Compose;
    assert.equal(environmentOf(writable.services['temporal-ui']!).TEMPORAL_DISABLE_WRITE_ACTIONS, 'false');
  });

  it("publishes nothing beyond this host, and the workers' metrics on the compose network only", () => {
    const compose = loadCompose();
    for (const [name, service] of Object.entries(compose.services)) {
      for (const port of service.ports ?? []) {
        assert.match(
          String(typeof port === 'object' ? JSON.stringify(port) : port),
          /^127\.0\.0\.1:/,
          `${name}: ${JSON.stringify(port)}`,
        );
      }
    }
    for (const name of ['worker', 'worker-emulator']) {
      assert.equal(compose.services[name]!.ports, undefined, `${name} publishes a port`);
      assert.deepEqual(compose.services[name]!.expose, ['9464']);
    }
  });

  it('pins every image it pulls to a version tag (major.minor at least), never latest', () => {
    const compose = loadCompose();
    for (const [name, service] of Object.entries(compose.services)) {
      if (isFogpilotImage(service)) continue;
      // A digest would pin harder; the tags here are the releases the stack was checked with.
      assert.match(
        service.image ?? '',
        /^[\w./-]+:(\d+\.\d+(\.\d+)?)(-[\w.]+)?(@sha256:[0-9a-f]{64})?$/,
        `${name}: ${service.image}`,
      );
    }
  });

  it('mounts configuration files that exist and that fogpilot loads: Azure for the worker, the emulator for its twin', () => {
    const compose = loadCompose();
    for (const [name, entry] of Object.entries(compose.configs ?? {}))
      assert.ok(entry.file && existsSync(path.join(root, entry.file)), `config ${name}: ${entry.file} does not exist`);

    const azure = loadMountedConfig(compose, 'worker').config;
    assert.equal(azure.azure.credential, 'default');
    assert.equal(azure.armEndpoint, 'https://management.azure.com');
    assert.equal(azure.sql.encrypt, true);
    assert.deepEqual(azure.sql.auth, { auth: 'entra' });
    assert.deepEqual(azure.sql.hosts, {});
    // Azure refills 25 reads a second per subscription; the replicas together must stay within it.
    const replicas = Number(compose.services.worker!.deploy?.replicas);
    assert.ok(
      replicas * azure.azure.rateLimits.readsPerSecond <= 25,
      'the workers together exceed the ARM read budget',
    );

    const rehearsal = loadMountedConfig(compose, 'worker-emulator').config;
    assert.equal(rehearsal.azure.credential, 'emulator');
    assert.equal(rehearsal.armEndpoint, 'http://emulator:19500');
    assert.equal(rehearsal.sql.encrypt, false);
  });

  it('keeps rehearsals and production apart: never the same task queue in the same namespace', () => {
    const compose = loadCompose();
    const queues = WORKERS.map((name) => {
      const { config, env } = loadMountedConfig(compose, name);
      return `${env.TEMPORAL_NAMESPACE ?? 'default'}/${config.temporal.taskQueue}`;
    });
    assert.equal(new Set(queues).size, WORKERS.length, `shared: ${queues.join(', ')}`);
  });

  it("creates every worker's namespace with fogpilot's search attributes, as Keywords, before the workers start", () => {
    const compose = loadCompose();
    const setup = compose.services['temporal-setup']!;
    const namespaces = (environmentOf(setup).NAMESPACES ?? '').split(/\s+/);
    for (const name of WORKERS) {
      assert.ok(namespaces.includes(environmentOf(compose.services[name]!).TEMPORAL_NAMESPACE ?? 'default'), name);
      assert.equal(
        dependenciesOf(compose.services[name]!)['temporal-setup']?.condition,
        'service_completed_successfully',
      );
    }
    const script = mountedFile(compose, setup, commandOf(setup)[0]!);
    assert.ok(script, 'temporal-setup runs a script mounted from this repository');
    const text = read(script);
    const listed = /^search_attributes="([^"]*)"/m.exec(text)?.[1]?.split(/\s+/);
    assert.deepEqual(listed?.sort(), FOGPILOT_SEARCH_ATTRIBUTES.map((key) => key.name).sort());
    assert.match(text, /search-attribute create --namespace "\$1" --name "\$2" --type Keyword/);
    for (const key of FOGPILOT_SEARCH_ATTRIBUTES) assert.equal(key.type, 'KEYWORD');

    const schema = compose.services['temporal-schema']!;
    assert.ok(mountedFile(compose, schema, commandOf(schema)[0]!), 'temporal-schema runs a script mounted from here');
    assert.equal(
      dependenciesOf(compose.services.temporal!)['temporal-schema']?.condition,
      'service_completed_successfully',
    );
  });
});

describe('the emulator profile', () => {
  /** Starts the emulator's default world with its ARM port at a free port (its SQL ports follow that one). */
  async function startAtFreePort(): Promise<{ emulator: Emulator; port: number }> {
    for (let attempt = 0; ; attempt++) {
      const port = await new Promise<number>((resolve, reject) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const address = probe.address();
          probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error())));
        });
      });
      try {
        return { emulator: await startEmulator({ port, host: '127.0.0.1', speed: 1 }), port };
      } catch (error) {
        if (attempt >= 4) throw error;
      }
    }
  }

  it("points the rehearsal worker at the emulator's ARM and SQL endpoints and at the groups of its world", async () => {
    const compose = loadCompose();
    const service = compose.services.emulator!;
    const command = commandOf(service);
    assert.deepEqual(command.slice(0, 3), ['node', 'bin/fogpilot.js', 'emulator']);
    const option = (flag: string) => command[command.indexOf(flag) + 1];
    assert.equal(option('--host'), '0.0.0.0', 'the emulator must listen beyond its own container');
    const armPort = Number(option('--port'));

    const { config, env } = loadMountedConfig(compose, 'worker-emulator');
    assert.equal(env.FOGPILOT_ARM_ENDPOINT, `http://emulator:${armPort}`);
    assert.equal(env.FOGPILOT_AZURE_CREDENTIAL, 'emulator');

    const { emulator, port } = await startAtFreePort();
    try {
      const start = emulator.startLine();
      const expectedHosts = Object.fromEntries(
        Object.entries(start.sql.hosts).map(([fqdn, hostPort]) => [
          fqdn,
          `emulator:${Number(hostPort.split(':')[1]) - port + armPort}`,
        ]),
      );
      assert.deepEqual(config.sql.hosts, expectedHosts);

      const highestPort = Math.max(...Object.values(expectedHosts).map((hostPort) => Number(hostPort.split(':')[1])));
      assert.ok(
        (service.ports ?? []).some(
          (entry) => typeof entry === 'string' && entry.endsWith(`:${armPort}-${highestPort}`),
        ),
        `the emulator must publish ${armPort}-${highestPort}`,
      );

      for (const group of start.groups) {
        const entry = config.inventory[group.name];
        assert.ok(entry, `the inventory lacks ${group.name}`);
        assert.deepEqual(
          [entry.subscriptionId, entry.resourceGroup, entry.primaryLocation, entry.secondaryLocation],
          [group.subscriptionId, group.resourceGroup, group.primaryLocation, group.secondaryLocation],
        );
      }
      for (const group of start.sqlDatabaseGroups) {
        const entry = config.inventory[group.name];
        assert.ok(entry, `the inventory lacks ${group.name}`);
        assert.deepEqual(
          [
            entry.kind,
            entry.subscriptionId,
            entry.resourceGroup,
            entry.primaryLocation,
            entry.secondaryLocation,
            entry.servers,
          ],
          [
            'sqlDatabase',
            group.subscriptionId,
            group.resourceGroup,
            group.primaryLocation,
            group.secondaryLocation,
            group.servers,
          ],
        );
      }

      const [userVariable, passwordVariable] = sqlLoginVariables(config);
      assert.deepEqual([env[userVariable!], env[passwordVariable!]], [start.sql.login.user, start.sql.login.password]);
    } finally {
      await emulator.close();
    }
  });
});

describe('Dockerfile', () => {
  const stages = parseDockerfile(read('Dockerfile'));
  const runtime = stages.at(-1)!;
  const all = (stage: Stage, keyword: string) =>
    stage.instructions.filter((instruction) => instruction.keyword === keyword);

  it('builds on Node 20 in stages and runs the worker as a non-root user', () => {
    assert.ok(stages.length >= 2, 'a multi-stage build');
    for (const stage of stages) assert.match(stage.from, /^node:20([-.]|$)/, `stage ${stage.name}: ${stage.from}`);
    const user = all(runtime, 'USER').at(-1)?.args;
    assert.ok(user, 'the runtime stage sets a USER');
    assert.doesNotMatch(user, /^(root|0)(:|$)/);
    assert.deepEqual(jsonForm(all(runtime, 'CMD').at(-1)?.args ?? ''), ['node', 'bin/fogpilot.js', 'worker']);
    assert.deepEqual(commandOf(loadCompose().services.worker!), ['node', 'bin/fogpilot.js', 'worker']);
  });

  it("checks health through the worker's metrics endpoint", () => {
    const healthcheck = all(runtime, 'HEALTHCHECK').at(-1)?.args ?? '';
    assert.match(healthcheck, /FOGPILOT_METRICS_PORT/);
    assert.match(healthcheck, /'9464'/);
    assert.match(healthcheck, /\/metrics/);
    assert.equal(metricsBindAddressFromEnvironment({}), '0.0.0.0:9464', 'the worker serves metrics on 9464');
    assert.ok(all(runtime, 'EXPOSE').some((instruction) => instruction.args.split(' ').includes('9464')));
  });

  it('builds with npm ci and npm run build, and ships production dependencies only', () => {
    const runs = stages.flatMap((stage) => all(stage, 'RUN').map((instruction) => instruction.args));
    assert.ok(
      runs.some((run) => /npm ci\b/.test(run) && !/--omit=dev/.test(run)),
      'a build stage installs everything',
    );
    assert.ok(
      runs.some((run) => /npm run build\b/.test(run)),
      'a stage runs npm run build',
    );
    for (const run of runs) assert.doesNotMatch(run, /npm (run )?(setup|test)\b|\bpip\b|python/);
    for (const run of all(runtime, 'RUN')) assert.doesNotMatch(run.args, /\bnpm\b/, 'the runtime stage runs no npm');
    assert.ok(
      all(runtime, 'RUN').some((run) => /apt-get install .*\bca-certificates\b/.test(run.args)),
      "the runtime has the system CA bundle the Temporal core's TLS needs",
    );

    const modules = all(runtime, 'COPY').find((instruction) => /\/node_modules\b/.test(instruction.args));
    const from = /--from=(\S+)/.exec(modules?.args ?? '')?.[1];
    const source = stages.find((stage) => stage.name === from);
    assert.ok(source, 'the runtime copies node_modules from a stage');
    assert.ok(
      all(source, 'RUN').some((instruction) => /npm ci\b.*--omit=dev/.test(instruction.args)),
      `stage ${from} installs production dependencies only`,
    );
  });

  it('needs no install script of its own from npm ci (no Python, no Temporal binaries)', () => {
    const scripts = (JSON.parse(read('package.json')) as { scripts?: Record<string, string> }).scripts ?? {};
    for (const hook of ['preinstall', 'install', 'postinstall', 'prepare', 'preprepare', 'postprepare'])
      assert.equal(scripts[hook], undefined, `package.json has a ${hook} script, which npm ci would run`);
  });

  it('copies only what exists, and .dockerignore keeps the rest out of the build context', () => {
    const patterns = read('.dockerignore')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter((line) => line && !line.startsWith('#'));
    for (const stage of stages) {
      for (const copy of all(stage, 'COPY')) {
        if (/--from=/.test(copy.args)) continue;
        const sources = copy.args
          .split(' ')
          .filter((part) => !part.startsWith('--'))
          .slice(0, -1);
        for (const source of sources) {
          assert.ok(existsSync(path.join(root, source)), `COPY ${source}: not in the repository`);
          assert.equal(ignoredByDocker(patterns, source.replace(/\/$/, '')), false, `COPY ${source}: excluded`);
        }
      }
    }
    for (const excluded of ['node_modules', 'dist', '.git', '.tools', 'test', 'fogpilot.yaml', '.env'])
      assert.equal(ignoredByDocker(patterns, excluded), true, `${excluded} reaches the build context`);
  });
});
