/**
 * What the steps of one planned failover leg share: its inputs, what the preflight read, and the leg as it goes. The
 * steps are declared in `leg-*.ts`; `plannedFailover` (planned-failover.ts) runs them in order, and `failback` and
 * `drDrill` run the same leg.
 */
import type { InstanceReading } from '../../activities';
import type { DatabaseReplicationLink, DatabaseUpdateability } from '../../domain/azure-state';
import type { ResolvedGroup } from '../../domain/group-ref';
import type { Milliseconds } from '../../domain/inputs';
import type { FailoverLeg, GateResult } from '../definitions';
import type { PreflightSnapshot } from './preflight';
import type { RunbookRun } from './runbook-run';
import type { SendOutcome } from './send-failover';

export interface PlannedLegParams {
  targetLocation?: string;
  maxLagSeconds: number;
  scaleSecondary: 'match' | 'skip';
  roleSwitchTimeout: Milliseconds;
  syncTimeout: Milliseconds;
  writableTimeout: Milliseconds;
  scaleTimeout: Milliseconds;
  dryRun: boolean;
}

export interface PlannedLegOptions {
  leg: FailoverLeg['name'];
  /** Prefix of step names: '' for the main leg, 'failback/' for the reverse leg of a plannedFailover. */
  stepPrefix: string;
  /**
   * Called once the preflight gates have passed, before anything is changed (never on a dry run): a drill starts its
   * write probe here, so a drill its gates refuse has written nothing.
   */
  onPreflightPassed?: () => void;
  /**
   * When the old secondary was larger than the old primary, the new secondary is smaller after the switch. `match`
   * scales it up then (with `scaleSecondary: 'match'`), so the way back needs no scaling; `warn` only says so — for a
   * leg that is followed by its own way back (a drill, a failover with `failback`). Default `warn`.
   */
  sizesAfterSwitch?: 'match' | 'warn';
}

/** Runs recorded before a planned leg looked at the sizes after the switch (warning, and scaling with `match`). */
export const SIZES_AFTER_SWITCH_PATCH = 'planned-leg-sizes-after-switch';

/** What `runPlannedLeg` returns when the target already was primary with the group healthy: nothing was sent. */
export const ALREADY_PRIMARY = 'already-primary';

/** The preflight's finding that the target already is primary and the group synchronizing: nothing to do. */
export interface AlreadyPrimaryReading {
  alreadyPrimary: true;
  target: string;
  from: string;
  rolesDetail: string;
  /** The old primary is being reseeded: the switch was a forced (or automatic) one, not this run's. */
  reseeding?: boolean;
  /** The group could not be read at both locations (this error); the target answered Primary alone. */
  partnerUnreadable?: string;
}

/** What the preflight read of a group the leg may fail over (its gates may still block it). */
export interface PreflightResult {
  alreadyPrimary?: undefined;
  group: ResolvedGroup;
  snapshot: PreflightSnapshot;
  gates: GateResult[];
  from: string;
  target: string;
  primary: InstanceReading;
  secondary: InstanceReading;
  links: DatabaseReplicationLink[];
  /** When the roles in `snapshot` were read (workflow time): the send may stand on them while they are fresh. */
  rolesReadAtMs?: number;
}

/** What the leg's steps are given before the preflight has read anything. */
export interface LegStart {
  run: RunbookRun;
  group: ResolvedGroup;
  params: PlannedLegParams;
}

/** What a dry run knows of a leg once the preflight has read: all its plan is made of. */
export type LegView =
  | { params: PlannedLegParams; preflight: PreflightResult; met?: undefined }
  | { params: PlannedLegParams; met: AlreadyPrimaryReading; preflight?: undefined };

/** A leg being run, past its preflight: what each step after it is given, and what the steps before it found. */
export interface LegRun extends LegStart {
  options: PlannedLegOptions;
  preflight: PreflightResult;
  met?: undefined;
  leg: FailoverLeg;
  /** The databases whose copy sync returned before the failover (set by verify-sync). */
  synced: Set<string>;
  /** The failover request's outcome (set by the failover step). */
  sent?: SendOutcome;
  /** When the request was answered; absent in runs recorded before the deadline counted from it. */
  sentAtMs?: number;
  /**
   * Every expected database on the target answered READ_WRITE to the data-plane watch of await-roles (workflow time
   * `atMs`), and ARM confirmed the target primary: await-writable has nothing left to prove.
   */
  writableSeen?: { polls: number; databases: DatabaseUpdateability[]; atMs: number };
}

/** The databases the new primary must have, writable: the partner side of every link the preflight read. */
export function expectedDatabases(preflight: PreflightResult): string[] {
  return preflight.links.map((link) => link.partnerDatabase || link.database);
}

/** Why a leg whose target already is primary sends nothing: in its plan and in its skipped failover step. */
export function alreadyPrimaryWhy(met: AlreadyPrimaryReading): string {
  if (met.partnerUnreadable)
    return `${met.target} is already primary by its own answer (the roles were changed outside this run) and ${met.from} could not be read: nothing to send`;
  if (met.reseeding)
    return `${met.target} is already primary (the roles were changed outside this run) and ${met.from} is being reseeded: nothing to send`;
  return `${met.target} is already primary and the group is synchronizing: nothing to send`;
}
