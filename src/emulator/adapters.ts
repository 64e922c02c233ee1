/**
 * fogpilot's real adapters pointed at a running emulator: the ARM control plane over its endpoint and the SQL data plane
 * over its TDS ports with its SQL login, plus an inventory of its groups. With the emulator's TLS on, both trust its CA
 * and encrypt, as against Azure (the SDK's bearer policy and the certificates' names checked as usual). What the demo and the end-to-end tests
 * run the runbooks on, so both exercise exactly what production uses.
 */
import { ArmControlPlane } from '../azure/arm-control-plane';
import { ArmServerGroupPlane } from '../azure/arm-server-group-plane';
import { EmulatorCredential } from '../azure/credentials';
import { Inventory } from '../config/inventory';
import { MssqlDataPlane, READ_RETRY_DEFAULTS } from '../sql/mssql-data-plane';
import type { Emulator } from './index';

export function emulatorAdapters(
  emulator: Emulator,
  options: { requestTimeoutMs?: number; sqlDatabaseApiVersion?: string } = {},
): { controlPlane: ArmControlPlane; serverGroupPlane: ArmServerGroupPlane; dataPlane: MssqlDataPlane } {
  const line = emulator.startLine();
  const ca = line.tls?.ca;
  const controlPlane = new ArmControlPlane({
    credential: new EmulatorCredential(),
    endpoint: emulator.armEndpoint,
    requestTimeoutMs: options.requestTimeoutMs,
    ca,
  });
  return {
    controlPlane,
    // SQL Database's server failover groups over the same client, as the worker builds it.
    serverGroupPlane: new ArmServerGroupPlane(controlPlane, {
      endpoint: emulator.armEndpoint,
      ...(options.sqlDatabaseApiVersion ? { apiVersion: options.sqlDatabaseApiVersion } : {}),
    }),
    dataPlane: new MssqlDataPlane({
      authenticationFor: () => ({ kind: 'sql-login', user: line.sql.login.user, password: line.sql.login.password }),
      resolve: (host) => {
        const [server, port] = (line.sql.hosts[host] ?? '').split(':');
        return { server: server!, port: Number(port) };
      },
      // Without TLS the emulator speaks plain TDS; against Azure encryption is always on.
      encrypt: ca !== undefined,
      ca,
      // Azure's retry schedule (5 s, doubling to 60 s, within 20 s) on the emulator's clock.
      readRetry: {
        initialDelayMs: Math.max(20, Math.round(READ_RETRY_DEFAULTS.initialDelayMs / emulator.world.clock.speed)),
        maxDelayMs: Math.max(100, Math.round(READ_RETRY_DEFAULTS.maxDelayMs / emulator.world.clock.speed)),
        budgetMs: Math.max(1_000, Math.round(READ_RETRY_DEFAULTS.budgetMs / emulator.world.clock.speed)),
      },
    }),
  };
}

/**
 * Every group of the emulated world, by name, with its current primary as home: the instance failover groups, and the
 * server failover groups (`kind: sqlDatabase`, each region's server; the first secondary as the home secondary).
 */
export function emulatorInventory(emulator: Emulator): Inventory {
  const entries: ConstructorParameters<typeof Inventory>[0] = {};
  for (const group of emulator.world.groups.values()) {
    const primary = emulator.world.instanceById(group.primaryInstanceId)!;
    const secondary = emulator.world.partnerInstance(group, primary.id);
    entries[group.name] = {
      subscriptionId: group.subscriptionId,
      resourceGroup: group.resourceGroup,
      name: group.name,
      primaryLocation: primary.location,
      secondaryLocation: secondary.location,
    };
  }
  for (const group of emulator.world.sqlFailoverGroups.values()) {
    const servers = group.serverIds.map((id) => emulator.world.sqlServerById(id)!);
    const primary = servers.find((server) => server.id === group.primaryServerId)!;
    const secondary = servers.find((server) => server.id !== group.primaryServerId)!;
    entries[group.name] = {
      subscriptionId: group.subscriptionId,
      resourceGroup: primary.resourceGroup,
      name: group.name,
      primaryLocation: primary.location,
      secondaryLocation: secondary.location,
      kind: 'sqlDatabase',
      servers: Object.fromEntries(servers.map((server) => [server.location, server.name])),
    };
  }
  return new Inventory(entries);
}
