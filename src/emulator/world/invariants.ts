/**
 * What the emulator can vouch for, for tests and benchmarks to judge a run: failover counts per group (received,
 * accepted, refused, by target) and violations of Azure's rules seen while the world moved (two primaries at once).
 */
import type { WorldContext } from './context';
import type { FailoverCounters, GroupState, WorldEvent } from './state';

/** The world's judgement of a run, as `GET /_admin/invariants` answers it. */
export interface WorldInvariants {
  violations: string[];
  failovers: Record<string, FailoverCounters>;
  events: WorldEvent[];
}

/** The group's failover counters, created at zero on first use. */
export function failoverCountersOf(world: WorldContext, group: Pick<GroupState, 'key'>): FailoverCounters {
  let counters = world.failoverCounters.get(group.key);
  if (!counters) {
    counters = { received: 0, accepted: 0, refused: 0, acceptedTo: {} };
    world.failoverCounters.set(group.key, counters);
  }
  return counters;
}

/**
 * Records a violation when, after a role switch, an instance other than the new primary still accepts writes to any
 * database of the group: two writable primaries, which Azure never allows (a planted `split-brain` fault is the
 * positive control). Judged from what each instance would accept, not from the group's single primary field.
 */
export function checkSinglePrimary(world: WorldContext, group: GroupState): void {
  const writableOthers = group.instanceIds.filter(
    (id) =>
      id.toLowerCase() !== group.primaryInstanceId.toLowerCase() &&
      group.databases.some((database) => world.acceptsWrites(group, id, database)),
  );
  for (const id of writableOthers) {
    world.violations.push(
      `${group.name}: two writable primaries at ${new Date(world.now()).toISOString()}: ` +
        `${world.instanceById(id)?.name ?? id} still accepts writes after ` +
        `${world.instanceById(group.primaryInstanceId)?.name ?? group.primaryInstanceId} took the primary role`,
    );
  }
}

/** A copy of the counters (by group name), the violations and the event log. */
export function invariantsOf(world: WorldContext): WorldInvariants {
  const failovers: Record<string, FailoverCounters> = {};
  for (const [key, counters] of world.failoverCounters) {
    failovers[world.groups.get(key)?.name ?? world.sqlFailoverGroups.get(key)?.name ?? key] = {
      ...counters,
      acceptedTo: { ...counters.acceptedTo },
    };
  }
  return {
    violations: [...world.violations],
    failovers,
    events: [...world.events],
  };
}
