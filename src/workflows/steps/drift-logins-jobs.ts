/**
 * Drift checks of what a failover group does not replicate: logins (in master) and SQL Agent jobs (in msdb). After a
 * failover, whatever exists only on the old primary is missing.
 */
import type { ManagedInstanceView } from '../../domain/azure-state';
import type { AgentJobInfo, LoginInfo } from '../../sql/data-plane';
import type { GateResult } from '../definitions';
import { gate } from './preflight';
import { unreadSides, type PairReading } from './drift-readings';

/** Principals every instance has of its own: not the business of a drift check. */
function isSystemLogin(login: LoginInfo): boolean {
  const name = login.name.toUpperCase();
  return (
    name.startsWith('##') ||
    name.startsWith('NT AUTHORITY\\') ||
    name.startsWith('NT SERVICE\\') ||
    !['S', 'U', 'G', 'E', 'X'].includes(login.type.toUpperCase())
  );
}

const sidKey = (sid: string): string => sid.trim().replace(/^0x/i, '').toUpperCase();
const sidText = (sid: string): string => `0x${sidKey(sid)}`;

function createLoginStatement(login: LoginInfo, sid: string): string {
  const type = login.type.toUpperCase();
  if (type === 'E' || type === 'X') return `CREATE LOGIN [${login.name}] FROM EXTERNAL PROVIDER;`;
  return `CREATE LOGIN [${login.name}] WITH PASSWORD = N'<its password>', SID = ${sidText(sid)};`;
}

/** `logins-match`: every login of the primary exists on the secondary with the same SID; otherwise it fails. */
export function loginsCheck(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  logins: PairReading<LoginInfo>,
): GateResult {
  const unread = unreadSides(primary, secondary, logins);
  if (unread) {
    return gate(
      'logins-match',
      'warn',
      `Logins could not be compared: ${unread}`,
      {},
      "Give fogpilot's SQL identity VIEW ANY DEFINITION on both instances (or fix the connection), then run the " +
        'check again: logins are not replicated, so they drift unless someone compares them.',
    );
  }
  const onPrimary = (logins.primary as LoginInfo[]).filter((login) => !isSystemLogin(login));
  const onSecondary = new Map(
    (logins.secondary as LoginInfo[])
      .filter((login) => !isSystemLogin(login))
      .map((login) => [login.name.toLowerCase(), login]),
  );
  const missing = onPrimary.filter((login) => !onSecondary.has(login.name.toLowerCase()));
  const mismatched = onPrimary
    .map((login) => ({ login, partner: onSecondary.get(login.name.toLowerCase()) }))
    .filter(
      (entry): entry is { login: LoginInfo; partner: LoginInfo } =>
        entry.partner !== undefined && sidKey(entry.partner.sid) !== sidKey(entry.login.sid),
    );
  const primaryNames = new Set(onPrimary.map((login) => login.name.toLowerCase()));
  const evidence = {
    primary: primary.name,
    secondary: secondary.name,
    compared: onPrimary.length,
    missing: missing.map((login) => ({ login: login.name, sid: sidText(login.sid), type: login.type })),
    sidMismatch: mismatched.map(({ login, partner }) => ({
      login: login.name,
      primarySid: sidText(login.sid),
      secondarySid: sidText(partner.sid),
    })),
    onlyOnSecondary: [...onSecondary.values()]
      .filter((login) => !primaryNames.has(login.name.toLowerCase()))
      .map((login) => login.name),
  };
  if (missing.length === 0 && mismatched.length === 0) {
    return gate(
      'logins-match',
      'pass',
      `${onPrimary.length} login(s) of the primary exist on ${secondary.name} with the same SID`,
      evidence,
    );
  }
  const problems = [
    missing.length ? `missing on ${secondary.name}: ${missing.map((login) => login.name).join(', ')}` : '',
    mismatched.length
      ? `with a different SID on ${secondary.name}: ` +
        mismatched
          .map(
            ({ login, partner }) => `${login.name} (primary ${sidText(login.sid)}, secondary ${sidText(partner.sid)})`,
          )
          .join(', ')
      : '',
  ].filter(Boolean);
  const statements = [
    ...missing.map((login) => createLoginStatement(login, login.sid)),
    ...mismatched.map(({ login }) => `DROP LOGIN [${login.name}]; ${createLoginStatement(login, login.sid)}`),
  ];
  return gate(
    'logins-match',
    'fail',
    `Logins of the primary ${problems.join('; ')}. After a failover, the database users of these logins cannot log ` +
      'in: users map to logins by SID, and logins are not replicated',
    evidence,
    `On ${secondary.name}, create each login with the primary's SID: ${statements.join(' ')} ` +
      'Repeat after every login change on the primary.',
  );
}

/** `agent-jobs-match`: every SQL Agent job of the primary exists on the secondary; a missing one warns. */
export function agentJobsCheck(
  primary: ManagedInstanceView,
  secondary: ManagedInstanceView,
  jobs: PairReading<AgentJobInfo>,
): GateResult {
  const unread = unreadSides(primary, secondary, jobs);
  if (unread) {
    return gate(
      'agent-jobs-match',
      'warn',
      `SQL Agent jobs could not be compared: ${unread}`,
      {},
      "Give fogpilot's SQL identity read access to msdb.dbo.sysjobs on both instances (SQLAgentReaderRole), then run " +
        'the check again.',
    );
  }
  const onPrimary = jobs.primary as AgentJobInfo[];
  const secondaryNames = new Set((jobs.secondary as AgentJobInfo[]).map((job) => job.name.toLowerCase()));
  const missing = onPrimary.filter((job) => !secondaryNames.has(job.name.toLowerCase()));
  const evidence = {
    primary: primary.name,
    secondary: secondary.name,
    compared: onPrimary.length,
    missing: missing.map((job) => ({ job: job.name, enabled: job.enabled })),
  };
  if (missing.length === 0) {
    return gate(
      'agent-jobs-match',
      'pass',
      `${onPrimary.length} SQL Agent job(s) of the primary exist on ${secondary.name}`,
      evidence,
    );
  }
  return gate(
    'agent-jobs-match',
    'warn',
    `SQL Agent jobs of the primary missing on ${secondary.name}: ${missing.map((job) => job.name).join(', ')}. ` +
      'Jobs live in msdb, which is not replicated: after a failover they would not run',
    evidence,
    `Script each job on ${primary.name} (SSMS: Script Job as → CREATE To) and create it on ${secondary.name}; let ` +
      "each step first check that its database is READ_WRITE (DATABASEPROPERTYEX(…, 'Updateability')), so both " +
      'copies can stay enabled.',
  );
}
