/**
 * `sp_wait_for_database_copy_sync @target_server, @target_database`, as every emulated server runs it: its arguments,
 * its refusals, and the wait until the named partner has hardened the last commit made before the call. What the link
 * is, how far the partner has hardened and whether this server still holds the primary is the server's
 * ({@link CopySyncLink}: a managed instance's group in ./sql-engine.ts, a database's geo-replication link in
 * ./sql-database-engine.ts).
 *
 * The procedure has no documented error numbers; the emulator uses 51001 (no link to that partner), 51002 (link
 * connectivity lost) and 51003 (not the primary), which no client should rely on.
 */
import type { ParameterValue, ProcedureArgs } from './protocol';
import { SqlError } from './sql-parser';
import type { World } from '../world';
import type { WorldEvent } from '../world/state';

export const EmulatorSqlErrors = { noLink: 51001, linkLost: 51002, notPrimary: 51003 } as const;

/** The link a copy-sync wait watches, as the server holding the session's database sees it. */
export interface CopySyncLink {
  /** The database's name as the server spells it. */
  database: string;
  /** The LSN to reach: the newest one committed on the primary now. */
  lastCommittedLsn(): number;
  /** Whether the partner has hardened `lsn` by `now`. */
  hardened(lsn: number, now: number): boolean;
  /** Since when the link to the partner is lost, when it is. */
  linkLostSince(): number | undefined;
  /** Whether the session's server holds the primary copy. */
  isPrimary(): boolean;
  /** The partner as the link-lost message names it. */
  partnerLabel: string;
  /** The `copy-sync-waited` event's group and instance, and what its detail says before the LSN and the wait. */
  noted: Omit<WorldEvent, 'seq' | 'at' | 'kind' | 'detail'> & { detail: Record<string, unknown> };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** `@target_server` and `@target_database`, named or by position; 201 when either is missing. */
export function copySyncArguments(args: ProcedureArgs): { targetServer: string; targetDatabase: string } {
  const named = (name: string, position: number): ParameterValue | undefined =>
    args.find((arg) => arg.name?.toLowerCase() === `@${name}`)?.value ??
    args.filter((arg) => !arg.name)[position]?.value;
  const targetServer = named('target_server', 0);
  const targetDatabase = named('target_database', 1);
  if (typeof targetServer !== 'string' || typeof targetDatabase !== 'string') {
    throw new SqlError(
      201,
      "Procedure or function 'sp_wait_for_database_copy_sync' expects parameters '@target_server' and '@target_database', which were not supplied.",
    );
  }
  return { targetServer, targetDatabase };
}

/**
 * Blocks until the partner of `link` has hardened the LSN committed when the call began: refused when there is no
 * such link (`link` undefined) or this server is not the primary; fails when the link stays lost for the link timeout
 * or the primary role moves away while waiting.
 */
export async function waitForCopySync(
  world: World,
  session: { database: string },
  target: { server: string; database: string },
  link: CopySyncLink | undefined,
  signal: AbortSignal,
): Promise<void> {
  if (!link) {
    throw new SqlError(
      EmulatorSqlErrors.noLink,
      `Database '${session.database}' has no geo-replication link to server '${target.server}', database '${target.database}'.`,
    );
  }
  const { database } = link;
  if (!link.isPrimary()) {
    throw new SqlError(
      EmulatorSqlErrors.notPrimary,
      `Database '${database}' is not the primary of its geo-replication link; run sp_wait_for_database_copy_sync on the primary.`,
    );
  }
  const targetLsn = link.lastCommittedLsn();
  const startedAt = world.now();
  const linkTimeoutMs = world.timings.linkTimeoutSeconds * 1000;
  for (;;) {
    if (signal.aborted) throw new DOMException('cancelled', 'AbortError');
    world.advance();
    const now = world.now();
    if (link.hardened(targetLsn, now)) {
      world.note('copy-sync-waited', {
        ...link.noted,
        detail: { ...link.noted.detail, targetLsn, waitedMs: now - startedAt },
      });
      return;
    }
    const lostSince = link.linkLostSince();
    if (lostSince !== undefined && now - Math.max(lostSince, startedAt) >= linkTimeoutMs) {
      throw new SqlError(
        EmulatorSqlErrors.linkLost,
        `Connectivity to ${link.partnerLabel} of database '${database}' was lost; the copy could not be synchronized.`,
      );
    }
    if (!link.isPrimary()) {
      throw new SqlError(
        EmulatorSqlErrors.notPrimary,
        `Database '${database}' stopped being the primary while waiting.`,
      );
    }
    await sleep(10);
  }
}
