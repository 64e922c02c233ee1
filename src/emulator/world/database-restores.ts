/**
 * Managed databases made and dropped through ARM (`managedInstances/{mi}/databases/{db}`, ManagedDatabases.json):
 * a PUT that restores one (`createMode` `PointInTimeRestore` from a live or a dropped database, or
 * `RestoreLongTermRetentionBackup`) or makes an empty one (`Default`), and a DELETE. Both are long-running. A restore
 * takes `timings.restoreSeconds` plus the size at `timings.restoreGBPerHour`, and the new database holds exactly the
 * source's commits up to the point (its rows, with their ids). On a failover group's primary it joins the group and is
 * seeded to the secondary once restored (./seeding.ts); the group reports SEEDING meanwhile. A DELETE on the primary
 * drops the database from both sides; the primary keeps it as a restorable dropped database with its whole log.
 *
 * Sources: spec 2022-05-01-preview/ManagedDatabases.json (ManagedDatabases_CreateOrUpdate: 200/201/202, long-running;
 * ManagedDatabases_Delete: 200/202/204; the error codes and messages of both operations' "Error Responses");
 * 2021-05-01-preview/RestorableDroppedManagedDatabases.json (example GetRestorableDroppedManagedDatabase: ids
 * `<name>,<deletion time as a file time>`); ../shared/reference/azure-sql-mi-failover.md ("Restore (Managed
 * Instance)": both long-running; a new database on a group's primary is seeded to the secondary).
 *
 * Inferred (no public source): refusing a restore onto a group's secondary with `TargetServerRestoreNotAllowed`, a
 * restore from a secondary (which takes no backups) with `BackupSetNotFound`, the durations, and the order of checks.
 */
import { startAsyncOperation } from './async-operations';
import { fileTime, onlineSince, restoreWindow, retentionDays } from './backups';
import type { WorldContext } from './context';
import { findLtrBackup } from './ltr-backups';
import { commitsUpTo } from './rows';
import {
  EmulatedArmError,
  type AsyncOperation,
  type CommitRecord,
  type DatabaseRestore,
  type DatabaseState,
  type DroppedDatabase,
  type GroupState,
  type InstanceState,
} from './state';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const GB = 1024 ** 3;

/** What a PUT of a managed database asks for (its `properties`). */
export interface DatabaseCreateRequest {
  createMode?: string;
  sourceDatabaseId?: string;
  restorableDroppedDatabaseId?: string;
  restorePointInTime?: string;
  longTermRetentionBackupResourceId?: string;
}

/** A database an instance lists: its group's (either side) or its own. */
export function liveDatabases(world: WorldContext, instance: InstanceState): DatabaseState[] {
  const group = world.groupOfInstance(instance.id);
  if (group) return group.databases;
  return instance.databases.map((own) => {
    own.retained ??= {
      name: own.name,
      sizeGB: own.sizeGB,
      lagMs: own.lagMs ?? world.timings.replicationLagMs,
      nextLsn: 1,
      commits: [],
      readOnlyUntil: 0,
    };
    return own.retained;
  });
}

/** Whether a restore or creation of the database is still running at `now` (SQL does not open it meanwhile). */
export function isRestoring(database: DatabaseState, now: number): boolean {
  return database.restore !== undefined && now < database.restore.endsAt;
}

const iso = (at: number) => new Date(at).toISOString();

/** Parses `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Sql/managedInstances/{mi}/{kind}/{name}`. */
function parseChildId(
  id: string,
  kind: string,
): { subscriptionId: string; resourceGroup: string; instance: string; name: string } | undefined {
  const match = new RegExp(
    `^/subscriptions/([^/]+)/resourceGroups/([^/]+)/providers/Microsoft\\.Sql/managedInstances/([^/]+)/${kind}/([^/]+)$`,
    'i',
  ).exec(id.trim());
  if (!match) return undefined;
  return {
    subscriptionId: match[1]!,
    resourceGroup: match[2]!,
    instance: match[3]!,
    name: decodeURIComponent(match[4]!),
  };
}

/** The rows a restore takes (copies of the commits up to the point), the point and the source's size. */
interface RestoreSource {
  commits: CommitRecord[];
  pointInTime: number;
  sizeGB: number;
  lagMs: number;
}

function pitrPoint(raw: string | undefined): number {
  if (raw === undefined || raw === '')
    throw new EmulatedArmError(400, 'MissingRestorePointInTime', 'Missing restore point in time');
  const at = Date.parse(raw);
  if (Number.isNaN(at))
    throw new EmulatedArmError(
      400,
      'InvalidDatabaseCreateOrUpdateRequest',
      `The request body for the create or update database operation is invalid: restorePointInTime '${raw}' is not an ISO 8601 time.`,
    );
  return at;
}

function pointInvalid(point: number, days: number, earliest: number, latest: number, what: string): EmulatedArmError {
  return new EmulatedArmError(
    400,
    'PitrPointInTimeInvalid',
    `The point in time ${iso(point)} is not valid. Valid point in time range from ${days} days early to now and not before source server creation time. ` +
      `${what} can be restored from ${iso(earliest)} to ${iso(latest)} (its newest log backup); choose a point in that range.`,
  );
}

/** The source of a point-in-time restore from a live database. */
function liveSource(world: WorldContext, subscriptionId: string, request: DatabaseCreateRequest): RestoreSource {
  const parsed = parseChildId(request.sourceDatabaseId!, 'databases');
  if (!parsed)
    throw new EmulatedArmError(
      400,
      'InvalidSourceDatabaseId',
      `Invalid source database identifier: '${request.sourceDatabaseId}' is not a managed database's resource id (/subscriptions/…/managedInstances/{mi}/databases/{db}).`,
    );
  if (parsed.subscriptionId.toLowerCase() !== subscriptionId.toLowerCase())
    throw new EmulatedArmError(
      400,
      'InvalidSourceDatabaseId',
      `Invalid source database identifier: '${request.sourceDatabaseId}' is in another subscription; a restore across subscriptions names it in crossSubscriptionSourceDatabaseId.`,
    );
  const point = pitrPoint(request.restorePointInTime);
  const instance = world.instanceByName(parsed.subscriptionId, parsed.resourceGroup, parsed.instance);
  if (!instance)
    throw new EmulatedArmError(
      400,
      'SourceServerNotFound',
      `The server part of a source database id provided in a CreateDatabaseAsCopy API call doesn't map to an existing server: no managed instance ${parsed.instance} in ${parsed.resourceGroup}.`,
    );
  const database = liveDatabases(world, instance).find(
    (entry) => entry.name.toLowerCase() === parsed.name.toLowerCase(),
  );
  if (!database)
    throw new EmulatedArmError(
      400,
      'SourceDatabaseNotFound',
      `The source database does not exist: ${instance.name} has no database ${parsed.name}.`,
    );
  const group = world.groupOfInstance(instance.id);
  const now = world.now();
  if ((group && group.primaryInstanceId !== instance.id) || isRestoring(database, now))
    throw new EmulatedArmError(
      400,
      'BackupSetNotFound',
      `No backups were found to restore the database. ${database.name} on ${instance.name} ${isRestoring(database, now) ? 'is still being created' : 'is a geo-secondary, and backups are taken on the primary only'}: restore from the primary's copy.`,
    );
  const window = restoreWindow(world, database, instance, now);
  if (point < window.earliest || point > window.latest)
    throw pointInvalid(
      point,
      retentionDays(instance),
      window.earliest,
      window.latest,
      `${database.name} on ${instance.name}`,
    );
  return {
    commits: commitsUpTo(database.commits, point),
    pointInTime: point,
    sizeGB: database.sizeGB,
    lagMs: database.lagMs,
  };
}

/** The dropped database a restorable dropped database id names. */
export function findDropped(world: WorldContext, id: string): DroppedDatabase | undefined {
  const parsed = parseChildId(id, 'restorableDroppedDatabases');
  if (!parsed) return undefined;
  const instance = world.instanceByName(parsed.subscriptionId, parsed.resourceGroup, parsed.instance);
  return (
    instance && restorableDropped(world, instance).find((entry) => entry.id.toLowerCase() === parsed.name.toLowerCase())
  );
}

/** The source of a point-in-time restore of a dropped database. */
function droppedSource(world: WorldContext, request: DatabaseCreateRequest): RestoreSource {
  const id = request.restorableDroppedDatabaseId!;
  if (!parseChildId(id, 'restorableDroppedDatabases'))
    throw new EmulatedArmError(
      400,
      'InvalidRestorableDroppedDatabaseId',
      `Invalid restorable dropped database identifier: '${id}' is not …/managedInstances/{mi}/restorableDroppedDatabases/{name,time}.`,
    );
  const point = pitrPoint(request.restorePointInTime);
  const dropped = findDropped(world, id);
  if (!dropped)
    throw new EmulatedArmError(
      404,
      'RestoreSourceDatabaseNotFound',
      `Could not find database '${id.split('/').at(-1)}' at time '${iso(point)}' that can be restored.`,
    );
  const instance = world.instanceById(dropped.instanceId)!;
  const earliest = earliestRestoreDate(world, dropped, instance);
  if (point < earliest || point > dropped.deletionDate)
    throw pointInvalid(
      point,
      retentionDays(instance),
      earliest,
      dropped.deletionDate,
      `Dropped database ${dropped.database.name}`,
    );
  return {
    commits: commitsUpTo(dropped.database.commits, point),
    pointInTime: point,
    sizeGB: dropped.database.sizeGB,
    lagMs: dropped.database.lagMs,
  };
}

function ltrSource(world: WorldContext, request: DatabaseCreateRequest): RestoreSource {
  const id = request.longTermRetentionBackupResourceId;
  if (!id)
    throw new EmulatedArmError(
      400,
      'InvalidLongTermRetentionManagedInstanceBackupId',
      'Invalid long term retention backup identifier for Managed Instances: longTermRetentionBackupResourceId is required with createMode RestoreLongTermRetentionBackup.',
    );
  const found = findLtrBackup(world, id);
  if (found === 'malformed')
    throw new EmulatedArmError(
      400,
      'InvalidLongTermRetentionManagedInstanceBackupId',
      `Invalid long term retention backup identifier for Managed Instances: '${id}' is not …/locations/{location}/longTermRetentionManagedInstances/{mi}/longTermRetentionDatabases/{db}/longTermRetentionManagedInstanceBackups/{backup}.`,
    );
  if (!found)
    throw new EmulatedArmError(
      404,
      'RestoreSourceDatabaseNotFound',
      `Could not find database '${id.split('/').at(-3) ?? id}' at time '${id.split('/').at(-1)}' that can be restored: no such long-term retention backup (it may have expired).`,
    );
  return {
    commits: found.commits(),
    pointInTime: found.backupTime,
    sizeGB: found.sizeGB,
    lagMs: world.timings.replicationLagMs,
  };
}

/**
 * PUT of `managedInstances/{target}/databases/{name}`: a restore or an empty database, long-running; or, for a database
 * that exists and a body that asks for no restore, nothing to do (undefined: ARM answers 200 with it).
 */
export function requestDatabaseCreate(
  world: WorldContext,
  target: InstanceState,
  name: string,
  request: DatabaseCreateRequest,
): AsyncOperation | undefined {
  world.advance();
  const now = world.now();
  const mode = request.createMode ?? 'Default';
  const existing = liveDatabases(world, target).find((entry) => entry.name.toLowerCase() === name.toLowerCase());
  if (existing && mode === 'Default') return undefined;
  if (!['Default', 'PointInTimeRestore', 'RestoreLongTermRetentionBackup'].includes(mode))
    throw new EmulatedArmError(
      400,
      'InvalidDatabaseCreateOrUpdateRequest',
      `The request body for the create or update database operation is invalid: the emulator does not emulate createMode ${mode} (it does Default, PointInTimeRestore and RestoreLongTermRetentionBackup).`,
    );
  const group = world.groupOfInstance(target.id);
  if (group && group.primaryInstanceId !== target.id)
    throw new EmulatedArmError(
      400,
      'TargetServerRestoreNotAllowed',
      `The target server ${target.name} is currently not in a state that allows a restore to be started: it is the geo-secondary of failover group ${group.name}, whose databases come from the primary. Create or restore the database on ${world.partnerInstance(group, target.id).name}; the group seeds it here.`,
    );
  if (existing)
    throw new EmulatedArmError(
      400,
      'ManagedDatabaseNameInUse',
      `Database '${existing.name}' already exists. Choose a different database name.`,
    );
  let source: RestoreSource | undefined;
  if (mode === 'PointInTimeRestore') {
    if (request.sourceDatabaseId && request.restorableDroppedDatabaseId)
      throw new EmulatedArmError(
        400,
        'RestorableDroppedDatabaseIdGivenForRestoreWithSourceDatabaseId',
        'Cannot specify restorableDroppedDatabaseId when sourceDatabaseId is already given in restore create mode',
      );
    if (!request.sourceDatabaseId && !request.restorableDroppedDatabaseId)
      throw new EmulatedArmError(
        400,
        'MissingSourceDatabaseId',
        'Missing source database identifier: a PointInTimeRestore names sourceDatabaseId (a managed database) or restorableDroppedDatabaseId.',
      );
    source = request.sourceDatabaseId
      ? liveSource(world, target.subscriptionId, request)
      : droppedSource(world, request);
  } else if (mode === 'RestoreLongTermRetentionBackup') {
    source = ltrSource(world, request);
  }
  if (group?.failover)
    throw new EmulatedArmError(
      409,
      'ConflictingDatabaseOperation',
      `There is already some operation on the database and the current operation should wait till it is done: a ${group.failover.kind} failover of ${group.name} is running.`,
    );

  const sizeGB = source?.sizeGB ?? 0;
  const endsAt =
    now + world.timings.restoreSeconds * 1000 + Math.round((sizeGB / world.timings.restoreGBPerHour) * HOUR_MS);
  const operation = startAsyncOperation(world, 'database-restore', target.subscriptionId, target.location, {
    type: 'database',
    instanceId: target.id,
    databaseName: name,
  });
  const restore: DatabaseRestore = {
    createMode: mode as DatabaseRestore['createMode'],
    asyncOperationId: operation.id,
    startedAt: now,
    endsAt,
    pointInTime: source?.pointInTime,
    sourceDatabaseId: request.sourceDatabaseId,
    restorableDroppedDatabaseId: request.restorableDroppedDatabaseId,
    longTermRetentionBackupResourceId: request.longTermRetentionBackupResourceId,
  };
  const commits = source?.commits ?? [];
  const database: DatabaseState = {
    name,
    sizeGB,
    lagMs: source?.lagMs ?? world.timings.replicationLagMs,
    nextLsn: (commits.at(-1)?.lsn ?? 0) + 1,
    commits,
    readOnlyUntil: 0,
    createdAt: now,
    restore,
  };
  if (group) {
    // Seeded to the secondary once restored, after any seeding still running (one database at a time).
    const startsAt = Math.max(
      endsAt,
      ...group.databases.map((entry) => (entry.seeding && !entry.seeding.canceledAt ? entry.seeding.endsAt : 0)),
    );
    const seedingEndsAt = startsAt + Math.round((sizeGB / world.timings.seedingGBPerHour) * HOUR_MS);
    database.seeding = { startsAt, endsAt: seedingEndsAt, bytes: Math.round(sizeGB * GB) };
    for (const record of commits) record.hardenedAt = seedingEndsAt;
    group.databases.push(database);
  } else {
    for (const record of commits) record.hardenedAt = record.committedAt;
    target.databases.push({ name, sizeGB, lagMs: database.lagMs, retained: database });
  }
  world.record('database-restore-requested', {
    group: group?.name,
    instance: target.name,
    detail: { database: name, createMode: mode, pointInTime: source?.pointInTime, endsAt, rows: commits.length },
  });
  return operation;
}

/** Ends the restores that are due (dated when due): the operation succeeds; in a group, the seeding is on. */
export function advanceDatabaseRestores(world: WorldContext, now: number): void {
  for (const instance of world.instances.values()) {
    const group = world.groupOfInstance(instance.id);
    if (group && group.primaryInstanceId !== instance.id && !group.databases.some((db) => db.restore)) continue;
    for (const database of liveDatabases(world, instance)) {
      const restore = database.restore;
      if (!restore || now < restore.endsAt) continue;
      const operation = world.asyncOperations.get(restore.asyncOperationId);
      if (operation?.status !== 'InProgress') continue;
      Object.assign(operation, { status: 'Succeeded', endTime: restore.endsAt });
      if (group && database.seeding && database.seeding.endsAt > restore.endsAt)
        group.seedingUntil = Math.max(group.seedingUntil ?? 0, database.seeding.endsAt);
      world.record(
        'database-restored',
        { group: group?.name, instance: instance.name, detail: { database: database.name } },
        restore.endsAt,
      );
    }
  }
}

/** DELETE of a managed database: undefined when it does not exist (ARM answers 204). */
export function requestDatabaseDeletion(
  world: WorldContext,
  instance: InstanceState,
  name: string,
): AsyncOperation | undefined {
  world.advance();
  const now = world.now();
  const database = liveDatabases(world, instance).find((entry) => entry.name.toLowerCase() === name.toLowerCase());
  if (!database) return undefined;
  const group = world.groupOfInstance(instance.id);
  if (group && group.primaryInstanceId !== instance.id)
    throw new EmulatedArmError(
      400,
      'GeoReplicationDatabaseNotPrimary',
      `The operation cannot be performed since the database '${database.name}' is a replication target: ${instance.name} is the geo-secondary of failover group ${group.name}. Delete it on the primary, ${world.partnerInstance(group, instance.id).name}; the group drops it from both sides.`,
    );
  if (group?.failover)
    throw new EmulatedArmError(
      400,
      'DropDisallowedDuringFailover',
      `Can not drop database because a failover operation is in progress on the failover group ${group.name}.`,
    );
  if (database.deletion) return world.asyncOperations.get(database.deletion.asyncOperationId);
  if (isRestoring(database, now))
    throw new EmulatedArmError(
      409,
      'ConflictingDatabaseOperation',
      `There is already some operation on the database and the current operation should wait till it is done: ${database.name} is being restored until ${iso(database.restore!.endsAt)}.`,
    );
  const operation = startAsyncOperation(world, 'database-delete', instance.subscriptionId, instance.location, {
    type: 'none',
  });
  database.deletion = {
    asyncOperationId: operation.id,
    requestedAt: now,
    endsAt: now + world.timings.databaseDeleteSeconds * 1000,
  };
  world.record('database-delete-requested', {
    group: group?.name,
    instance: instance.name,
    detail: { database: database.name, endsAt: database.deletion.endsAt },
  });
  return operation;
}

/** Drops the databases whose deletion is due, from both sides of a group; the primary keeps them restorable. */
export function advanceDatabaseDeletions(world: WorldContext, now: number): void {
  const drop = (instance: InstanceState, database: DatabaseState, group: GroupState | undefined) => {
    const at = database.deletion!.endsAt;
    const operation = world.asyncOperations.get(database.deletion!.asyncOperationId);
    if (operation?.status === 'InProgress') Object.assign(operation, { status: 'Succeeded', endTime: at });
    instance.droppedDatabases.push({
      id: `${database.name},${fileTime(at)}`,
      instanceId: instance.id,
      database: { ...database, deletion: undefined, seeding: undefined },
      creationDate: database.createdAt ?? instance.createdAt,
      deletionDate: at,
    });
    world.record(
      'database-dropped',
      { group: group?.name, instance: instance.name, detail: { database: database.name } },
      at,
    );
  };
  for (const group of world.groups.values()) {
    const due = group.databases.filter((database) => database.deletion && now >= database.deletion.endsAt);
    if (due.length === 0) continue;
    group.databases = group.databases.filter((database) => !due.includes(database));
    for (const database of due) drop(world.instanceById(group.primaryInstanceId)!, database, group);
  }
  for (const instance of world.instances.values()) {
    const due = instance.databases.filter((own) => own.retained?.deletion && now >= own.retained.deletion.endsAt);
    if (due.length === 0) continue;
    instance.databases = instance.databases.filter((own) => !due.includes(own));
    for (const own of due) drop(instance, own.retained!, undefined);
  }
}

/** The earliest point a dropped database can be restored to. */
export function earliestRestoreDate(world: WorldContext, dropped: DroppedDatabase, instance: InstanceState): number {
  return Math.max(
    onlineSince(dropped.database, instance),
    Math.min(dropped.deletionDate, world.now() - retentionDays(instance) * DAY_MS),
  );
}

/** The instance's dropped databases still within its short-term retention. */
export function restorableDropped(world: WorldContext, instance: InstanceState): DroppedDatabase[] {
  const horizon = world.now() - retentionDays(instance) * DAY_MS;
  return instance.droppedDatabases.filter((dropped) => dropped.deletionDate > horizon);
}
