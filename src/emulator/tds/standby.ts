/**
 * A license-free standby secondary (`secondaryType: Standby`) serves no reads. Microsoft's page "Configure a
 * license-free standby replica for Azure SQL Managed Instance" (learn.microsoft.com/en-us/azure/azure-sql/
 * managed-instance/auto-failover-group-standby-replica-how-to-configure) grants the benefit only when "the secondary
 * instance doesn't have any read workloads or applications connected to it"; the failover rights it rests on still
 * allow monitoring.
 *
 * Knowingly simplified: Azure documents no error for a read there (the rule is a licensing term, not a refusal). The
 * emulator refuses reads of user data on the standby secondary with SQL Server's 976, its error for a secondary that
 * is not enabled for read access, so a runbook or application that reads there is caught in rehearsal; monitoring
 * (system views, `sys.dm_geo_replication_link_status`, DATABASEPROPERTYEX) keeps working.
 */
import { SqlError } from './sql-parser';
import type { GroupState, InstanceState } from '../world';

/** The error a read of user data gets on `instance` when it is the group's standby secondary; undefined otherwise. */
export function standbyReadRefusal(group: GroupState, instance: InstanceState, database: string): SqlError | undefined {
  if (group.secondaryType !== 'Standby' || group.primaryInstanceId === instance.id) return undefined;
  return new SqlError(
    976,
    `The target database, '${database}', is on a license-free standby replica (secondaryType Standby) of failover group ` +
      `'${group.name}' and is not accessible for queries. Read from the primary, or set secondaryType to Geo to make ` +
      'the secondary readable.',
    14,
  );
}
