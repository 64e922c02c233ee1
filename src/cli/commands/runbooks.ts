/** The commands that start runbooks, follow them and message them, in the order `fogpilot --help` lists them. */
import type { Command } from 'commander';
import { registerDrill } from './drill';
import { registerEstablish } from './establish';
import { registerReprotect } from './reprotect';
import { registerProtectWorkload } from './protect-workload';
import { registerRestore } from './restore';
import { registerFailback } from './failback';
import { registerFailover } from './failover';
import { registerFleetFailover } from './fleet-failover';
import { registerForceFailover } from './force-failover';
import { registerMessages } from './messages';
import { registerReadiness } from './readiness';
import { registerReport } from './report';
import { registerScale } from './scale';
import { registerSchedule } from './schedule';
import { registerWatch } from './watch';
import { registerWatchGroups } from './watch-groups';

export function registerRunbookCommands(program: Command): void {
  registerFailover(program);
  registerForceFailover(program);
  registerFailback(program);
  registerScale(program);
  registerDrill(program);
  registerFleetFailover(program);
  registerReadiness(program);
  registerEstablish(program);
  registerWatchGroups(program);
  registerReprotect(program);
  registerProtectWorkload(program);
  registerRestore(program);
  registerWatch(program);
  registerMessages(program);
  registerReport(program);
  registerSchedule(program);
}
