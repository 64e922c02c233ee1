/**
 * The offline Azure: one world served as ARM over HTTP (and, for SQL, over TDS). `fogpilot emulator` runs it standalone;
 * tests start it in-process.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { listenerHost } from '../domain/group-ref';
import { SpeedClock, type WorldClock } from './clock';
import { startArmServer, type ArmServer } from './arm-server';
import { World, idLocation } from './world';
import { EMULATOR_TOKEN } from './arm/front-door';
import { SqlEngine } from './tds/sql-engine';
import { makeCertificates, type EmulatorCertificates } from './tls/ca';
import { instanceTdsTls, singleCertificateTdsTls } from './tls/tds-tls';
import { ReadWriteListener, TdsServer } from './tds/tds-server';
import { ReadOnlyListener, readOnlyListenerHost } from './tds/read-only-listener';
import { SqlDatabaseEngine } from './tds/sql-database-engine';
import {
  SqlReadOnlyListener,
  SqlReadWriteListener,
  SqlServerTdsServer,
  sqlListenerHosts,
} from './tds/sql-database-tds';
import { NAMED_WORLDS, defaultWorldSpec, type WorldSpecInput } from './world-spec';

export { NAMED_WORLDS, defaultWorldSpec, establishWorldSpec } from './world-spec';

export interface EmulatorOptions {
  /** A world description (object), or the path of a JSON/YAML file; default: one group, two regions, two databases. */
  world?: WorldSpecInput | string;
  host?: string;
  /** ARM port; 0 picks a free one. */
  port?: number;
  /** Simulated seconds per real second (60: a 30-second role switch takes half a second). */
  speed?: number;
  clock?: WorldClock;
  /**
   * Serve ARM over HTTPS and TDS with TLS, with certificates from a CA made at start (its PEM is in the start line,
   * `tls.ca`). Default: plain HTTP and TDS without encryption.
   */
  tls?: boolean;
}

export interface StartLine {
  emulator: 'fogpilot';
  armEndpoint: string;
  admin: string;
  /** The bearer token ARM accepts (EmulatorCredential's; any JWT works too). */
  armToken: string;
  /** With TLS: the CA that signed the ARM and TDS certificates (PEM), for clients to trust. */
  tls?: { ca: string };
  speed: number;
  subscriptionId: string;
  groups: {
    name: string;
    id: string;
    subscriptionId: string;
    resourceGroup: string;
    primaryLocation: string;
    secondaryLocation: string;
    databases: string[];
  }[];
  instances: { name: string; id: string; location: string; fullyQualifiedDomainName: string }[];
  /**
   * The Azure SQL Database server failover groups: each with its ARM id at the primary server, the servers by region
   * (what an inventory entry of `kind: sqlDatabase` names), the primary's and the first partner's, and the members.
   */
  sqlDatabaseGroups: {
    name: string;
    id: string;
    subscriptionId: string;
    resourceGroup: string;
    primaryServer: string;
    partnerServers: string[];
    primaryLocation: string;
    secondaryLocation: string;
    /** Each region's logical server: `{ eastus: fog-orders-eastus, westus: fog-orders-westus }`. */
    servers: Record<string, string>;
    databases: string[];
  }[];
  sql: {
    /** The SQL login every instance accepts (a rehearsal login, not a secret). */
    login: { user: string; password: string };
    /** One TDS endpoint per instance. */
    instances: { name: string; fullyQualifiedDomainName: string; host: string; port: number }[];
    /** One TDS endpoint per logical server of SQL Database (`<server>.database.windows.net`). */
    servers: { name: string; fullyQualifiedDomainName: string; host: string; port: number }[];
    /**
     * Per group, its read-write listener (forwarding to the current primary), then, after every group's, the read-only
     * listeners `<group>.secondary.<zone>` (forwarding to the current secondary); then each server failover group's
     * two, `<group>.database.windows.net` and `<group>.secondary.database.windows.net`.
     */
    listeners: {
      group: string;
      kind: 'read-write' | 'read-only';
      fullyQualifiedDomainName: string;
      host: string;
      port: number;
    }[];
    /** For fogpilot.yaml `sql.hosts`: FQDN → host:port. */
    hosts: Record<string, string>;
  };
  use: Record<string, string>;
}

export interface Emulator {
  world: World;
  arm: ArmServer;
  armEndpoint: string;
  /** TDS endpoints by instance id (lower case). */
  tds: Map<string, TdsServer>;
  /** Read-write listeners by group key. */
  listeners: Map<string, ReadWriteListener>;
  /** Read-only listeners by group key. */
  readOnlyListeners: Map<string, ReadOnlyListener>;
  /** TDS endpoints of the logical servers of SQL Database, by server id (lower case). */
  sqlServerTds: Map<string, SqlServerTdsServer>;
  /** The listeners of the server failover groups, by group key: `<group>.database.windows.net`, `<group>.secondary.…`. */
  sqlListeners: Map<string, { readWrite: SqlReadWriteListener; readOnly: SqlReadOnlyListener }>;
  /** With TLS: the CA and the certificates it signed. */
  certificates?: EmulatorCertificates;
  startLine(): StartLine;
  close(): Promise<void>;
}

export function readWorldFile(file: string): WorldSpecInput {
  const text = readFileSync(file, 'utf8');
  return (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as WorldSpecInput;
}

/**
 * The world `--world` names: a world the emulator knows by name (`default`, `establish`: see {@link NAMED_WORLDS}),
 * else a JSON or YAML file (a file named like a world is given with a path: `./establish`).
 */
export function worldOf(nameOrFile: string): WorldSpecInput {
  const named = NAMED_WORLDS[nameOrFile];
  return named ? named() : readWorldFile(nameOrFile);
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const spec = typeof options.world === 'string' ? readWorldFile(options.world) : (options.world ?? defaultWorldSpec());
  const clock = options.clock ?? new SpeedClock(options.speed ?? 1);
  const world = new World(clock, spec);
  world.startTicking();
  const host = options.host ?? '127.0.0.1';
  const certificates = options.tls
    ? await makeCertificates({
        armHosts: [host],
        dnsZones: [...world.instances.values()].map((instance) => instance.dnsZone),
      })
    : undefined;
  let arm: ArmServer;
  try {
    arm = await startArmServer({ world, host, port: options.port, tls: certificates?.arm });
  } catch (error) {
    world.stopTicking();
    throw error;
  }
  const engine = new SqlEngine(world);
  const tds = new Map<string, TdsServer>();
  const listeners = new Map<string, ReadWriteListener>();
  const readOnlyListeners = new Map<string, ReadOnlyListener>();
  const sqlDatabaseEngine = new SqlDatabaseEngine(world);
  const sqlServerTds = new Map<string, SqlServerTdsServer>();
  const sqlListeners = new Map<string, { readWrite: SqlReadWriteListener; readOnly: SqlReadOnlyListener }>();
  const close = async (): Promise<void> => {
    world.stopTicking();
    await Promise.all([...listeners.values()].map((listener) => listener.close()));
    await Promise.all([...readOnlyListeners.values()].map((listener) => listener.close()));
    await Promise.all([...sqlListeners.values()].flatMap((pair) => [pair.readWrite.close(), pair.readOnly.close()]));
    await Promise.all([...tds.values()].map((server) => server.close()));
    await Promise.all([...sqlServerTds.values()].map((server) => server.close()));
    await arm.close();
  };
  // With an explicit ARM port, SQL ports follow it (instances, then listeners), so a user can write them down.
  let nextPort = options.port ? options.port + 1 : 0;
  const takePort = () => (nextPort ? nextPort++ : 0);
  /** With TLS: an instance's zone first, then its group partners' (see instanceTdsTls). */
  const tdsTls = (instanceId: string) =>
    certificates &&
    instanceTdsTls(
      () => {
        const instance = world.instanceById(instanceId);
        const group = instance && world.groupOfInstance(instance.id);
        const members = group ? group.instanceIds.map((id) => world.instanceById(id)) : [];
        return [instance, ...members].flatMap((entry) => (entry ? [entry.dnsZone.toLowerCase()] : []));
      },
      (zone) => certificates.tdsFor(zone),
    );
  /** Matches the SQL endpoints to the world's instances and groups (a new world may bring others). */
  const syncSqlEndpoints = async (): Promise<void> => {
    for (const [id, server] of tds) {
      if (!world.instanceById(id)) {
        tds.delete(id);
        await server.close();
      }
    }
    for (const instance of world.instances.values()) {
      const id = instance.id.toLowerCase();
      if (tds.has(id)) continue;
      const server = new TdsServer(world, engine, instance.id, tdsTls(instance.id));
      await server.listen(host, takePort());
      tds.set(id, server);
    }
    for (const [key, listener] of listeners) {
      if (!world.groups.has(key)) {
        listeners.delete(key);
        await listener.close();
      }
    }
    for (const group of world.groups.values()) {
      if (listeners.has(group.key)) continue;
      const listener = new ReadWriteListener(world, group.key, (instanceId) => tds.get(instanceId.toLowerCase())?.port);
      await listener.listen(host, takePort());
      listeners.set(group.key, listener);
    }
    for (const [key, listener] of readOnlyListeners) {
      if (!world.groups.has(key)) {
        readOnlyListeners.delete(key);
        await listener.close();
      }
    }
    for (const group of world.groups.values()) {
      if (readOnlyListeners.has(group.key)) continue;
      const listener = new ReadOnlyListener(world, group.key, (instanceId) => tds.get(instanceId.toLowerCase())?.port);
      await listener.listen(host, takePort());
      readOnlyListeners.set(group.key, listener);
    }
    await syncSqlDatabaseEndpoints();
  };
  /**
   * The same for SQL Database: one endpoint per logical server, two listeners per server failover group. With TLS every
   * server presents SQL Database's certificate (`*.database.windows.net`, `*.secondary.database.windows.net`: see
   * ./tls/ca.ts), and the listeners, being forwards, carry the server's TLS end to end.
   */
  const sqlDatabaseTls = certificates && singleCertificateTdsTls(certificates.sqlDatabase);
  const syncSqlDatabaseEndpoints = async (): Promise<void> => {
    for (const [id, server] of sqlServerTds) {
      if (!world.sqlServerById(id)) {
        sqlServerTds.delete(id);
        await server.close();
      }
    }
    for (const server of world.sqlServers.values()) {
      const id = server.id.toLowerCase();
      if (sqlServerTds.has(id)) continue;
      const endpoint = new SqlServerTdsServer(world, sqlDatabaseEngine, server.id, sqlDatabaseTls);
      await endpoint.listen(host, takePort());
      sqlServerTds.set(id, endpoint);
    }
    for (const [key, pair] of sqlListeners) {
      if (!world.sqlFailoverGroups.has(key)) {
        sqlListeners.delete(key);
        await Promise.all([pair.readWrite.close(), pair.readOnly.close()]);
      }
    }
    const portOf = (serverId: string) => sqlServerTds.get(serverId.toLowerCase())?.port;
    for (const group of world.sqlFailoverGroups.values()) {
      if (sqlListeners.has(group.key)) continue;
      const readWrite = new SqlReadWriteListener(world, group.key, portOf);
      await readWrite.listen(host, takePort());
      const readOnly = new SqlReadOnlyListener(world, group.key, portOf);
      await readOnly.listen(host, takePort());
      sqlListeners.set(group.key, { readWrite, readOnly });
    }
  };
  try {
    await syncSqlEndpoints();
  } catch (error) {
    // A port taken (the SQL ports follow an explicit ARM port): nothing of this emulator may stay open or ticking,
    // or the process that asked would never exit.
    await close().catch(() => undefined);
    throw error;
  }
  // A new world, and a group created or deleted by ARM, bring listeners to open or close; one sync at a time.
  let syncing = Promise.resolve();
  world.on('change', (kind: string) => {
    if (kind === 'world-loaded' || kind === 'group-created' || kind === 'group-deleted')
      syncing = syncing.then(syncSqlEndpoints).catch(() => undefined);
  });
  const startLine = (): StartLine => ({
    emulator: 'fogpilot',
    armEndpoint: arm.url,
    admin: `${arm.url}/_admin`,
    armToken: EMULATOR_TOKEN,
    ...(certificates ? { tls: { ca: certificates.ca } } : {}),
    speed: clock.speed,
    subscriptionId: world.spec.subscriptionId,
    groups: [...world.groups.values()].map((group) => {
      const primary = world.instanceById(group.primaryInstanceId)!;
      const secondary = world.partnerInstance(group, primary.id);
      return {
        name: group.name,
        id: `/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}/providers/Microsoft.Sql/locations/${idLocation(primary.displayLocation)}/instanceFailoverGroups/${group.name}`,
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        primaryLocation: primary.location,
        secondaryLocation: secondary.location,
        databases: group.databases.map((database) => database.name),
      };
    }),
    instances: [...world.instances.values()].map((instance) => ({
      name: instance.name,
      id: instance.id,
      location: instance.location,
      fullyQualifiedDomainName: instance.fullyQualifiedDomainName,
    })),
    sqlDatabaseGroups: [...world.sqlFailoverGroups.values()].flatMap((group) => {
      const primary = world.sqlServerById(group.primaryServerId);
      const partners = group.serverIds.filter((id) => id.toLowerCase() !== group.primaryServerId.toLowerCase());
      const partnerServers = partners.flatMap((id) => world.sqlServerById(id) ?? []);
      if (!primary || partnerServers.length === 0) return [];
      return [
        {
          name: group.name,
          id: `${primary.id}/failoverGroups/${group.name}`,
          subscriptionId: group.subscriptionId,
          resourceGroup: primary.resourceGroup,
          primaryServer: primary.name,
          partnerServers: partnerServers.map((server) => server.name),
          primaryLocation: primary.location,
          secondaryLocation: partnerServers[0]!.location,
          servers: Object.fromEntries([primary, ...partnerServers].map((server) => [server.location, server.name])),
          databases: [...group.databases],
        },
      ];
    }),
    sql: (() => {
      const instances = [...world.instances.values()].map((instance) => ({
        name: instance.name,
        fullyQualifiedDomainName: instance.fullyQualifiedDomainName,
        host,
        port: tds.get(instance.id.toLowerCase())?.port ?? 0,
      }));
      const groupListeners = [
        ...[...world.groups.values()].map((group) => ({
          group: group.name,
          kind: 'read-write' as const,
          fullyQualifiedDomainName: listenerHost(group.name, world.instanceById(group.instanceIds[0])!.dnsZone),
          host,
          port: listeners.get(group.key)?.port ?? 0,
        })),
        ...[...world.groups.values()].map((group) => ({
          group: group.name,
          kind: 'read-only' as const,
          fullyQualifiedDomainName: readOnlyListenerHost(group.name, world.instanceById(group.instanceIds[0])!.dnsZone),
          host,
          port: readOnlyListeners.get(group.key)?.port ?? 0,
        })),
        ...[...world.sqlFailoverGroups.values()].flatMap((group) => {
          const names = sqlListenerHosts(group.name);
          const pair = sqlListeners.get(group.key);
          return [
            {
              group: group.name,
              kind: 'read-write' as const,
              fullyQualifiedDomainName: names.readWrite,
              host,
              port: pair?.readWrite.port ?? 0,
            },
            {
              group: group.name,
              kind: 'read-only' as const,
              fullyQualifiedDomainName: names.readOnly,
              host,
              port: pair?.readOnly.port ?? 0,
            },
          ];
        }),
      ];
      const servers = [...world.sqlServers.values()].map((server) => ({
        name: server.name,
        fullyQualifiedDomainName: server.fullyQualifiedDomainName,
        host,
        port: sqlServerTds.get(server.id.toLowerCase())?.port ?? 0,
      }));
      return {
        login: { ...world.spec.sqlLogin },
        instances,
        servers,
        listeners: groupListeners,
        hosts: Object.fromEntries(
          [...instances, ...servers, ...groupListeners].map((entry) => [
            entry.fullyQualifiedDomainName,
            `${entry.host}:${entry.port}`,
          ]),
        ),
      };
    })(),
    use: { FOGPILOT_ARM_ENDPOINT: arm.url, FOGPILOT_AZURE_CREDENTIAL: 'emulator' },
  });
  return {
    world,
    arm,
    armEndpoint: arm.url,
    tds,
    listeners,
    readOnlyListeners,
    sqlServerTds,
    sqlListeners,
    certificates,
    startLine,
    close,
  };
}
