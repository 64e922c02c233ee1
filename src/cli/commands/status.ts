import type { Command } from 'commander';
import { ApplicationFailure } from '@temporalio/common';
import { createArmActivities } from '../../activities/arm';
import { createControlPlane } from '../../azure';
import { ConfigError, inventoryOf, loadConfig } from '../../config/config';
import {
  operationInFlight,
  summarizeGroupRoles,
  type FailoverGroupView,
  type ManagedInstanceView,
  type ManagementOperationView,
} from '../../domain/azure-state';
import { GroupRefSchema } from '../../domain/inputs';
import type { GroupRef } from '../../domain/group-ref';
import { FailureTypes } from '../../workflows/definitions';
import { CliError, ExitCodes } from '../errors';

export interface GroupStatus {
  group: {
    displayName: string;
    subscriptionId: string;
    resourceGroup: string;
    name: string;
    homePrimary: string;
    homeSecondary: string;
  };
  status: string;
  consistent: boolean;
  primaryLocation?: string;
  /**
   * Set when the primary is not the inventory's home primary: the roles were switched, by a fogpilot run, a person, or
   * Azure itself (the Automatic policy fails a group over after an outage outlasts its grace period). ARM says neither
   * who nor when, so status says what it knows: the policy that allows the automatic kind.
   */
  awayFromHome?: { primaryLocation: string; homePrimary: string; failoverPolicy?: string; gracePeriodMinutes?: number };
  locations: {
    location: string;
    answered: boolean;
    role?: string;
    replicationState?: string;
    partnerRole?: string;
    error?: string;
  }[];
  instances: (Pick<
    ManagedInstanceView,
    'name' | 'location' | 'skuName' | 'vCores' | 'storageSizeInGB' | 'provisioningState' | 'state'
  > & { operationsInFlight: ManagementOperationView[] })[];
}

function parseGroupArgument(argument: string): GroupRef {
  const raw: unknown = argument.trim().startsWith('{') ? JSON.parse(argument) : argument;
  const parsed = GroupRefSchema.safeParse(raw);
  if (!parsed.success)
    throw new CliError(`group: ${parsed.error.issues[0]?.message ?? 'not a group reference'}`, ExitCodes.usage);
  return parsed.data;
}

/** Reads the group at each location and both instances; a location that does not answer is reported, not fatal. */
export async function readGroupStatus(ref: GroupRef): Promise<GroupStatus> {
  const config = loadConfig();
  const controlPlane = createControlPlane(config);
  const activities = createArmActivities({ controlPlane, inventory: inventoryOf(config) });
  const { group } = await activities.resolveGroup(ref);
  const locations = [group.primaryLocation, group.secondaryLocation];
  const answers = await Promise.allSettled(locations.map((location) => controlPlane.getFailoverGroup(group, location)));
  const views: FailoverGroupView[] = [];
  const perLocation = answers.map((answer, index) => {
    if (answer.status === 'fulfilled') {
      views.push(answer.value.value);
      return {
        location: locations[index]!,
        answered: true,
        role: answer.value.value.replicationRole,
        replicationState: answer.value.value.replicationState,
        partnerRole: answer.value.value.partnerRole,
      };
    }
    return { location: locations[index]!, answered: false, error: (answer.reason as Error).message };
  });
  if (views.length === 0) {
    const allNotFound = answers.every(
      (answer) => answer.status === 'rejected' && (answer.reason as { statusCode?: number }).statusCode === 404,
    );
    if (allNotFound) {
      throw new CliError(
        `Group ${group.displayName} was not found at ${locations.join(' or ')}.`,
        ExitCodes.notFound,
        'Check the subscription, resource group, name and regions.',
      );
    }
    throw new CliError(
      `No location answered for ${group.displayName}: ${perLocation.map((entry) => `${entry.location}: ${entry.error}`).join('; ')}`,
      ExitCodes.azure,
      'Check FOGPILOT_ARM_ENDPOINT, the credential and your network, then retry.',
    );
  }
  const summary = summarizeGroupRoles(views);
  const instanceIds = [
    ...new Set(views.flatMap((view) => [view.primaryManagedInstanceId, view.partnerManagedInstanceId]).filter(Boolean)),
  ];
  const instances = (
    await Promise.allSettled(
      instanceIds.map(async (id) => {
        const [instance, operations] = await Promise.all([
          controlPlane.getManagedInstance(id),
          controlPlane.listManagedInstanceOperations(id),
        ]);
        const { name, location, skuName, vCores, storageSizeInGB, provisioningState, state } = instance.value;
        return {
          name,
          location,
          skuName,
          vCores,
          storageSizeInGB,
          provisioningState,
          state,
          operationsInFlight: operations.value.filter(operationInFlight),
        };
      }),
    )
  ).map((answer, index) =>
    answer.status === 'fulfilled'
      ? answer.value
      : {
          name: instanceIds[index]!.split('/').pop()!,
          location: '?',
          skuName: '',
          vCores: 0,
          storageSizeInGB: 0,
          provisioningState: 'no answer',
          state: (answer.reason as Error).message,
          operationsInFlight: [],
        },
  );
  return {
    group: {
      displayName: group.displayName,
      subscriptionId: group.subscriptionId,
      resourceGroup: group.resourceGroup,
      name: group.name,
      homePrimary: group.primaryLocation,
      homeSecondary: group.secondaryLocation,
    },
    status: summary.status,
    consistent: summary.consistent,
    primaryLocation: summary.primaryLocation,
    awayFromHome:
      summary.primaryLocation && summary.primaryLocation !== group.primaryLocation
        ? {
            primaryLocation: summary.primaryLocation,
            homePrimary: group.primaryLocation,
            failoverPolicy: views[0]?.readWriteFailoverPolicy,
            gracePeriodMinutes: views[0]?.failoverWithDataLossGracePeriodMinutes,
          }
        : undefined,
    locations: perLocation,
    instances,
  };
}

function awayLines(status: GroupStatus): string[] {
  const away = status.awayFromHome;
  if (!away) return [];
  const automatic =
    away.failoverPolicy === 'Automatic'
      ? ` The read-write policy is Automatic: Azure fails the group over by itself once an outage of ${away.homePrimary} ` +
        `outlasts the grace period (${away.gracePeriodMinutes ?? '?'} min), losing what had not replicated.`
      : '';
  return [
    `  primary: ${away.primaryLocation}, away from home (${away.homePrimary}). ARM does not record who switched the ` +
      `roles or when: a fogpilot run (its report: \`fogpilot report <workflowId>\`), a person, or Azure.${automatic}`,
  ];
}

export function formatGroupStatus(status: GroupStatus): string {
  const lines = [
    `${status.group.displayName}  (${status.group.subscriptionId}/${status.group.resourceGroup}/${status.group.name})`,
    `  status: ${status.status}${status.consistent ? '' : '  — the locations disagree about the roles'}`,
    ...awayLines(status),
    '',
    '  location         role        replication      as seen from that location',
  ];
  for (const entry of status.locations) {
    lines.push(
      entry.answered
        ? `  ${entry.location.padEnd(16)} ${(entry.role ?? '').padEnd(11)} ${(entry.replicationState ?? '').padEnd(16)} partner ${entry.partnerRole ?? '?'}`
        : `  ${entry.location.padEnd(16)} no answer: ${entry.error}`,
    );
  }
  lines.push('', '  instance                         location         size                 state');
  for (const instance of status.instances) {
    lines.push(
      `  ${instance.name.padEnd(32)} ${instance.location.padEnd(16)} ${`${instance.vCores} vCores ${instance.storageSizeInGB} GB`.padEnd(20)} ${instance.provisioningState}/${instance.state}`,
    );
    for (const operation of instance.operationsInFlight) {
      lines.push(
        `    in flight: ${operation.friendlyName ?? operation.operation} ${operation.state} ${operation.percentComplete ?? 0}%`,
      );
    }
  }
  if (status.instances.every((instance) => instance.operationsInFlight.length === 0))
    lines.push('  no management operation in flight');
  return lines.join('\n');
}

export function registerStatus(program: Command): void {
  program
    .command('status')
    .summary('show a failover group: roles at each location, replication, both instances, operations in flight')
    .argument('<group>', 'inventory name, full ARM id, or coordinates as JSON')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  fogpilot status fog-sales\n  fogpilot status /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Sql/locations/eastus/instanceFailoverGroups/fog-sales --json',
    )
    .action(async (argument: string, options: { json?: boolean }) => {
      let status: GroupStatus;
      try {
        status = await readGroupStatus(parseGroupArgument(argument));
      } catch (error) {
        if (error instanceof CliError) throw error;
        if (error instanceof ConfigError) throw new CliError(error.message, ExitCodes.usage);
        if (error instanceof ApplicationFailure && error.type === FailureTypes.GroupNotFound)
          throw new CliError(error.message, ExitCodes.notFound);
        throw new CliError(
          `Reading the group failed: ${(error as Error).message}`,
          ExitCodes.azure,
          'Check FOGPILOT_ARM_ENDPOINT, the credential and your network, then retry.',
        );
      }
      process.stdout.write(options.json ? `${JSON.stringify(status, null, 2)}\n` : `${formatGroupStatus(status)}\n`);
    });
}
