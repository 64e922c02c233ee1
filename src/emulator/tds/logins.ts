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
import type { InstanceState, World } from '../world';

/** The rehearsal login's SID on every instance (it is one login, created alike everywhere). */
export const REHEARSAL_LOGIN_SID = '0x0105000000000009030000006F6770696C6F74';

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
