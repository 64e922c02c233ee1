/**
 * Who may log in where. Logins live in each instance's master database and are not replicated (Azure SQL Managed
 * Instance failover groups replicate user databases only: learn.microsoft.com/azure/azure-sql/managed-instance/
 * failover-group-sql-mi, "logins ... must exist on the secondary with the same SID"), so each instance accepts the SQL
 * logins its world description gives it (`instances[].logins` with a password), and a login missing on an instance
 * fails there with 18456, as SQL Server answers a login it does not know. The world's rehearsal login
 * (`sqlLogin`, printed in the start line) is accepted everywhere so that every tool keeps working.
 *
 * Also read from LOGIN7: the client's ApplicationIntent (TypeFlags fReadOnlyIntent, MS-TDS 2.2.6.4).
 */
import type { CellValue, Column } from './protocol';
import type { InstanceState, World } from '../world';

/** The rehearsal login's SID on every instance (it is one login, created alike everywhere). */
const REHEARSAL_LOGIN_SID = '0x0105000000000009030000006F6770696C6F74';

/** Whether `user`/`password` is a SQL login of this instance (or the world's rehearsal login). */
export function acceptsLogin(world: World, instance: InstanceState, user: string, password: string): boolean {
  const rehearsal = world.spec.sqlLogin;
  if (user === rehearsal.user && password === rehearsal.password) return true;
  return instance.logins.some(
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
  instance: InstanceState,
): { columns: Column[]; rows: Record<string, CellValue>[] } {
  const principals = [
    { name: 'sa', sid: '0x01', type: 'S' },
    { name: '##MS_PolicyEventProcessingLogin##', sid: '0x2AE7B2A8E58D4F4D9A3B4D0F40C4C0F0', type: 'S' },
    { name: world.spec.sqlLogin.user, sid: REHEARSAL_LOGIN_SID, type: 'S' },
    ...instance.logins,
  ];
  return {
    columns: [
      { name: 'name', type: 'nvarchar' },
      { name: 'principal_id', type: 'int' },
      { name: 'sid', type: 'varbinary' },
      { name: 'type', type: 'nvarchar' },
      { name: 'type_desc', type: 'nvarchar' },
      { name: 'is_disabled', type: 'bit' },
    ],
    rows: principals.map((principal, index) => ({
      name: principal.name,
      principal_id: index + 1,
      sid: Buffer.from(principal.sid.replace(/^0x/i, ''), 'hex'),
      type: principal.type,
      type_desc:
        { S: 'SQL_LOGIN', U: 'WINDOWS_LOGIN', G: 'WINDOWS_GROUP', E: 'EXTERNAL_LOGIN', X: 'EXTERNAL_GROUP' }[
          principal.type
        ] ?? 'SQL_LOGIN',
      is_disabled: false,
    })),
  };
}
