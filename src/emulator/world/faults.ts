/**
 * Faults that live in the world's behaviour, the chaos knobs of the admin API: a failover that never completes or ends
 * Failed, a scale that ends Failed, a dark region, SQL faults, a lost replication link, a lag spike. (Faults of the
 * HTTP exchange itself are the ARM server's: ../faults.ts.)
 */
import { normalizeLocation } from '../../domain/locations';
import type { FaultSpec } from '../faults';
import type { WorldContext } from './context';
import { loseLink, restoreLink } from './replication';
import { losePartnerLink, restorePartnerLink } from './sql-replication';
import { sameId, type SqlGeoReplication } from './sql-state';
import { armSplitBrain } from './split-brain';
import type { GroupState, InstanceState, WorldFaults } from './state';

export type { SqlFaults, WorldFaults } from './state';

/** The fault kinds `addWorldFault` applies; the others are HTTP faults. */
export type WorldFaultSpec = Exclude<FaultSpec, { kind: 'throttle' | 'error' | 'reset' | 'latency' | 'busy' }>;

/** A world with no fault armed. */
export function noWorldFaults(): WorldFaults {
  return {
    failoverNeverCompletes: new Set(),
    failoverFails: new Map(),
    operationFails: new Map(),
    darkRegions: new Set(),
    darkSince: new Map(),
    sql: { loginFailures: new Map(), loginFailureApps: new Map(), latencyMs: new Map(), resetDuringWait: new Map() },
    splitBrain: new Map(),
  };
}

/** Forgets every armed fault (the state a fault left behind, such as a lost link, stays). */
export function clearWorldFaults(faults: WorldFaults): void {
  faults.failoverNeverCompletes.clear();
  faults.failoverFails.clear();
  faults.operationFails.clear();
  faults.darkRegions.clear();
  faults.darkSince.clear();
  faults.sql.loginFailures.clear();
  faults.sql.loginFailureApps.clear();
  faults.sql.latencyMs.clear();
  faults.sql.resetDuringWait.clear();
  faults.splitBrain.clear();
}

/** Whether the region answers nothing (fault `region-dark`). */
export function isDark(faults: WorldFaults, location: string): boolean {
  return faults.darkRegions.has(normalizeLocation(location));
}

/**
 * What an accepted failover of `group` is armed with, consumed: an injected failure wins over never completing (which
 * then stays armed for the next one).
 */
export function takeFailoverFault(
  faults: WorldFaults,
  group: Pick<GroupState, 'key' | 'name'>,
): { fails: { code: string; message: string } } | { neverCompletes: true } | undefined {
  const name = group.name.toLowerCase();
  const fails = faults.failoverFails.get(group.key) ?? faults.failoverFails.get(name);
  if (fails) {
    faults.failoverFails.delete(group.key);
    faults.failoverFails.delete(name);
    return { fails };
  }
  if (faults.failoverNeverCompletes.has(group.key) || faults.failoverNeverCompletes.has(name)) {
    faults.failoverNeverCompletes.delete(group.key);
    faults.failoverNeverCompletes.delete(name);
    return { neverCompletes: true };
  }
  return undefined;
}

/** The failure a new scale of `instance` is armed with, consumed. */
export function takeOperationFault(
  faults: WorldFaults,
  instance: InstanceState,
): { code: string; message: string } | undefined {
  const id = instance.id.toLowerCase();
  const name = instance.name.toLowerCase();
  const fails = faults.operationFails.get(id) ?? faults.operationFails.get(name);
  faults.operationFails.delete(id);
  faults.operationFails.delete(name);
  return fails;
}

/** Arms a world fault (admin API `POST /_admin/faults`). Throws when it names a group or database the world lacks. */
export function addWorldFault(world: WorldContext, spec: WorldFaultSpec): void {
  const faults = world.faults;
  switch (spec.kind) {
    case 'failover-never-completes':
      faults.failoverNeverCompletes.add(world.findGroup(spec.group)?.key ?? spec.group.toLowerCase());
      return;
    case 'failover-fails':
      faults.failoverFails.set(world.findGroup(spec.group)?.key ?? spec.group.toLowerCase(), {
        code: spec.code,
        message: spec.message,
      });
      return;
    case 'operation-fails':
      faults.operationFails.set(spec.instance.toLowerCase(), { code: spec.code, message: spec.message });
      return;
    case 'region-dark': {
      const location = normalizeLocation(spec.location);
      faults.darkRegions.add(location);
      // An Automatic group's grace period counts from when its primary's region went dark.
      if (!faults.darkSince.has(location)) faults.darkSince.set(location, world.now());
      // A dark primary ships no more log: what had not hardened by now never will (until the region returns).
      for (const database of databasesTouching(world, location)) loseLink(database, world.now());
      for (const { replication, serverId } of sqlLinksTouching(world, location))
        losePartnerLink(replication, serverId, world.now());
      world.emit('change', 'region-dark', location);
      return;
    }
    case 'sql-reset-during-wait':
      faults.sql.resetDuringWait.set(spec.instance.toLowerCase(), spec.count);
      return;
    case 'sql-latency':
      faults.sql.latencyMs.set(spec.instance.toLowerCase(), spec.ms);
      return;
    case 'sql-login-fails':
      faults.sql.loginFailures.set(spec.instance.toLowerCase(), spec.count);
      if (spec.app) faults.sql.loginFailureApps.set(spec.instance.toLowerCase(), spec.app);
      else faults.sql.loginFailureApps.delete(spec.instance.toLowerCase());
      return;
    case 'split-brain':
      armSplitBrain(world, spec.group, spec.seconds);
      return;
    case 'link-lost':
    case 'lag-spike': {
      const sqlGroup = world.findGroup(spec.group) ? undefined : findSqlGroup(world, spec.group);
      if (sqlGroup) {
        const replications = sqlGroupReplications(world, sqlGroup.key).filter(
          (replication) => !spec.database || sameId(replication.name, spec.database),
        );
        if (replications.length === 0) throw new Error(`no database ${spec.database} in group ${spec.group}`);
        for (const replication of replications) {
          if (spec.kind === 'link-lost')
            for (const link of replication.partners) losePartnerLink(replication, link.serverId, world.now());
          else replication.data.lagSpike = { lagMs: spec.lagMs, until: world.now() + spec.seconds * 1000 };
        }
        return;
      }
      const group = world.findGroup(spec.group);
      if (!group) throw new Error(`no group ${spec.group} in the world`);
      const databases = group.databases.filter(
        (database) => !spec.database || database.name.toLowerCase() === spec.database.toLowerCase(),
      );
      if (databases.length === 0) throw new Error(`no database ${spec.database} in group ${spec.group}`);
      for (const database of databases) {
        if (spec.kind === 'link-lost') loseLink(database, world.now());
        else database.lagSpike = { lagMs: spec.lagMs, until: world.now() + spec.seconds * 1000 };
      }
      return;
    }
  }
}

/**
 * A dark region answers again (admin API `DELETE /_admin/faults/<location>`): an old primary a forced failover left
 * behind there is demoted and reseeded. Returns whether the region was dark.
 */
export function restoreRegion(world: WorldContext, location: string): boolean {
  const normalized = normalizeLocation(location);
  const wasDark = world.faults.darkRegions.delete(normalized);
  world.faults.darkSince.delete(normalized);
  if (!wasDark) return false;
  world.advance();
  for (const database of databasesTouching(world, normalized)) restoreLink(database, world.now());
  for (const { replication, serverId } of sqlLinksTouching(world, normalized)) {
    const dark = (id: string) => {
      const server = world.sqlServers.get(id.toLowerCase());
      return server !== undefined && world.isDark(server.location);
    };
    if (!dark(serverId) && !dark(replication.primaryServerId)) restorePartnerLink(replication, serverId, world.now());
  }
  return true;
}

/** Every geo-replicated SQL database once (through its primary copy). */
function sqlReplications(world: WorldContext): SqlGeoReplication[] {
  const seen = new Set<SqlGeoReplication>();
  for (const server of world.sqlServers.values())
    for (const database of server.databases) if (database.replication) seen.add(database.replication);
  return [...seen];
}

/** The links of SQL geo-replication with an end in `location`: a dark primary ships nothing, a dark partner takes nothing. */
function sqlLinksTouching(world: WorldContext, location: string) {
  const inRegion = (id: string) => world.sqlServers.get(id.toLowerCase())?.location === normalizeLocation(location);
  return sqlReplications(world).flatMap((replication) =>
    replication.partners
      .filter((link) => inRegion(link.serverId) || inRegion(replication.primaryServerId))
      .map((link) => ({ replication, serverId: link.serverId })),
  );
}

/** A server failover group by key or by name. */
function findSqlGroup(world: WorldContext, nameOrKey: string) {
  return (
    world.sqlFailoverGroups.get(nameOrKey.toLowerCase()) ??
    [...world.sqlFailoverGroups.values()].find((group) => sameId(group.name, nameOrKey))
  );
}

/** The geo-replication of a server failover group's members. */
function sqlGroupReplications(world: WorldContext, key: string): SqlGeoReplication[] {
  const group = world.sqlFailoverGroups.get(key);
  if (!group) return [];
  const primary = world.sqlServers.get(group.primaryServerId.toLowerCase());
  return group.databases.flatMap((name) => {
    const replication = primary?.databases.find((database) => sameId(database.name, name))?.replication;
    return replication ? [replication] : [];
  });
}

/** The databases of the groups with an instance in `location`. */
function databasesTouching(world: WorldContext, location: string) {
  return [...world.groups.values()]
    .filter((group) => world.instanceAt(group, location) !== undefined)
    .flatMap((group) => group.databases);
}

/**
 * Removes every world fault and what the replication faults left behind (admin API `DELETE /_admin/faults`). Dark
 * regions return: an old primary a forced failover left behind there is demoted and reseeded on the next advance.
 */
export function removeWorldFaults(world: WorldContext): void {
  clearWorldFaults(world.faults);
  world.advance();
  for (const group of world.groups.values()) {
    for (const database of group.databases) {
      restoreLink(database, world.now());
      database.lagSpike = undefined;
    }
  }
  for (const replication of sqlReplications(world)) {
    for (const link of replication.partners) restorePartnerLink(replication, link.serverId, world.now());
    replication.data.lagSpike = undefined;
  }
}
