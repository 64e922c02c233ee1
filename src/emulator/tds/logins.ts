/**
 * Who may log in where, on a managed instance (and, alike, on a logical server of SQL Database: ./sql-database-tds.ts).
 * Logins live in each instance's master database and are not replicated (Azure SQL Managed
 * Instance failover groups replicate user databases only: learn.microsoft.com/azure/azure-sql/managed-instance/
 * failover-group-sql-mi, "logins ... must exist on the secondary with the same SID"), so each instance accepts the SQL
 * logins its world description gives it (`instances[].logins` with a password), and a login missing on an instance
 * fails there with 18456, as SQL Server answers a login it does not know. The world's rehearsal login
 * (`sqlLogin`, printed in the start line) is accepted everywhere so that every tool keeps working.
 *
 * Also read from LOGIN7: the client's ApplicationIntent (TypeFlags fReadOnlyIntent, MS-TDS 2.2.6.4).
 */
import type { CellValue, Column } from './protocol';
import type { World } from '../world';
import type { LoginSpec } from '../world-spec';

/** The rehearsal login's SID on every server (it is one login, created alike everywhere). */
export const REHEARSAL_LOGIN_SID = '0x0105000000000009030000006F6770696C6F74';

/** A SID as SQL shows it (`varbinary`), from its `0x…` spelling. */
export const sidBuffer = (sid: string): Buffer => Buffer.from(sid.replace(/^0x/i, ''), 'hex');

/**
 * Whether `user`/`password` is a SQL login of this server, a managed instance or a logical server (or the world's
 * rehearsal login).
 */
export function acceptsLogin(
  world: World,
  server: { logins: readonly LoginSpec[] },
  user: string,
  password: string,
): boolean {
  const rehearsal = world.spec.sqlLogin;
  if (user === rehearsal.user && password === rehearsal.password) return true;
  return server.logins.some(
    (login) =>
      login.type === 'S' &&
      login.password !== undefined &&
      login.name.toLowerCase() === user.toLowerCase() &&
      login.password === password,
  );
}

/** LOGIN7 TypeFlags (byte 26 of the fixed part) bit 5, fReadOnlyIntent: the client said ApplicationIntent=ReadOnly. */
export function readOnlyIntent(login7: Buffer): boolean {
  return login7.length > 26 && (login7[26]! & 0x20) !== 0;
}

/** `sys.server_principals` on `instance`: the system logins, the rehearsal login, and the instance's own logins. */
export function serverPrincipals(
  world: World,
  instance: { logins: readonly LoginSpec[] },
): { columns: Column[]; rows: Record<string, CellValue>[] } {
  return loginsTable([
    { name: 'sa', sid: '0x01', type: 'S' },
    { name: '##MS_PolicyEventProcessingLogin##', sid: '0x2AE7B2A8E58D4F4D9A3B4D0F40C4C0F0', type: 'S' },
    { name: world.spec.sqlLogin.user, sid: REHEARSAL_LOGIN_SID, type: 'S' },
    ...instance.logins,
  ]);
}

/**
 * A view of logins in the shape of `sys.server_principals` and `sys.sql_logins` (name, principal_id in the order
 * given, sid, type, type_desc, is_disabled).
 */
export function loginsTable(logins: readonly { name: string; sid: string; type: string }[]): {
  columns: Column[];
  rows: Record<string, CellValue>[];
} {
  return {
    columns: [
      { name: 'name', type: 'nvarchar' },
      { name: 'principal_id', type: 'int' },
      { name: 'sid', type: 'varbinary' },
      { name: 'type', type: 'nvarchar' },
      { name: 'type_desc', type: 'nvarchar' },
      { name: 'is_disabled', type: 'bit' },
    ],
    rows: logins.map((login, index) => ({
      name: login.name,
      principal_id: index + 1,
      sid: sidBuffer(login.sid),
      type: login.type,
      type_desc:
        { S: 'SQL_LOGIN', U: 'WINDOWS_LOGIN', G: 'WINDOWS_GROUP', E: 'EXTERNAL_LOGIN', X: 'EXTERNAL_GROUP' }[
          login.type
        ] ?? 'SQL_LOGIN',
      is_disabled: false,
    })),
  };
}
