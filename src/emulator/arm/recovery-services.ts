/**
 * Microsoft.RecoveryServices, Azure Backup of virtual machines as @azure/arm-recoveryservicesbackup 12 calls it
 * (api-version 2023-06-01): the vault's GET; its `backupPolicies` (list, GET); discovery (`backupFabrics/Azure/
 * refreshContainers`, long-running: 202 with a Location `backupFabrics/Azure/operationResults/{id}` answering 202, then
 * 204) and `backupProtectableItems`; a protected item's PUT (202 with Azure-AsyncOperation `…/operationsStatus/{id}`
 * and Location `…/operationResults/{id}`: 202, then the item) and GET, and the vault's `backupProtectedItems`; an
 * on-demand backup (POST `…/backup`, 202, its operation status naming the job); `backupJobs` (GET, list with `$filter`);
 * `recoveryPoints` (list, GET).
 *
 * Sources: azure-rest-api-specs recoveryservicesbackup stable/2023-06-01 examples (RefreshContainers,
 * Compute_ProtectedItem_Get, ProtectionPolicies_Get, RecoveryPoints_Get, ListJobsWithAllSupportedFilters); Microsoft
 * Learn "Back up an Azure VM using Azure Backup via REST API" (the protectable item, the PUT's and the backup's 202
 * headers, the operation status with `OperationStatusJobExtendedInfo.jobId`, a new item `IRPending` with
 * `lastBackupTime` 2001-01-01) and "Track backup and restore jobs using REST API" (the job's shape). The world's rules:
 * ../world/vm-backup.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import {
  protectableVms,
  protectionStateOf,
  refreshContainers,
  requestProtection,
  triggerBackup,
  vaultByName,
  vmBackupNames,
} from '../world/vm-backup';
import type {
  BackupJob,
  BackupOperation,
  ProtectedItemState,
  RecoveryPoint,
  VaultState,
} from '../world/workload-state';
import type { ArmContext, Params } from './context';

export const vaultPath =
  '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.RecoveryServices/vaults/:vault';
const itemPath = `${vaultPath}/backupFabrics/:fabric/protectionContainers/:container/protectedItems/:item`;

const iso = (ms: number) => new Date(ms).toISOString();

/** A .NET TimeSpan, as the jobs' `duration` is written (`00:20:23.0896697`). */
function timeSpan(ms: number): string {
  const total = Math.max(0, ms);
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor((total % 3_600_000) / 60_000);
  const seconds = Math.floor((total % 60_000) / 1000);
  const fraction = String((total % 1000) * 10_000).padStart(7, '0');
  const pad = (value: number) => String(value).padStart(2, '0');
  return `${pad(hours)}:${pad(minutes)}:${pad(seconds)}.${fraction}`;
}

/** `backupManagementType eq 'AzureIaasVM' and status eq 'InProgress'` → { backupManagementType: 'AzureIaasVM', … } */
export function parseODataFilter(filter: string | undefined): Record<string, string> {
  const clauses: Record<string, string> = {};
  if (!filter) return clauses;
  for (const clause of filter.split(/\s+and\s+/i)) {
    const match = /^\s*(\w+)\s+eq\s+'([^']*)'\s*$/i.exec(clause);
    if (match) clauses[match[1]!.toLowerCase()] = match[2]!;
  }
  return clauses;
}

/** Registers the vault, policy, discovery, protection, backup, job and recovery point routes. */
export function registerRecoveryServicesRoutes(app: FastifyInstance, context: ArmContext): void {
  const { world, send, fail, baseUrl } = context;
  const version = (request: FastifyRequest) => String((request.query as Record<string, string>)['api-version']);
  const vaultOf = (request: FastifyRequest): VaultState | undefined => {
    const { subscription, resourceGroup, vault } = request.params as Params;
    return vaultByName(world, subscription!, resourceGroup!, vault!);
  };
  const noVault = (request: FastifyRequest, reply: Parameters<typeof send>[1]) => {
    const { resourceGroup, vault } = request.params as Params;
    return send(
      request,
      reply,
      404,
      armErrorBody(
        'ResourceNotFound',
        `The Resource 'Microsoft.RecoveryServices/vaults/${vault}' under resource group '${resourceGroup}' was not found.`,
      ),
    );
  };
  const retryAfter = () => String(world.timings.asyncRetryAfterSeconds);
  const policyId = (vault: VaultState, name: string) => `${vault.id}/backupPolicies/${name}`;

  const policyBody = (vault: VaultState, name: string) => {
    const policy = vault.policies.find((entry) => entry.name.toLowerCase() === name.toLowerCase())!;
    const [hours, minutes] = policy.scheduleRunTimes[0]!.split(':').map(Number) as [number, number];
    const runTime = iso(Date.UTC(2020, 0, 1, hours, minutes));
    return {
      id: policyId(vault, policy.name),
      name: policy.name,
      type: 'Microsoft.RecoveryServices/vaults/backupPolicies',
      properties: {
        backupManagementType: 'AzureIaasVM',
        instantRpRetentionRangeInDays: policy.instantRpRetentionRangeInDays,
        schedulePolicy: {
          schedulePolicyType: 'SimpleSchedulePolicy',
          scheduleRunFrequency: policy.scheduleRunFrequency,
          scheduleRunTimes: [runTime],
          scheduleWeeklyFrequency: 0,
        },
        retentionPolicy: {
          retentionPolicyType: 'LongTermRetentionPolicy',
          dailySchedule: {
            retentionTimes: [runTime],
            retentionDuration: { count: policy.dailyRetentionDays, durationType: 'Days' },
          },
        },
        timeZone: 'UTC',
        protectedItemsCount: [...vault.protectedItems.values()].filter((item) => item.policyName === policy.name)
          .length,
      },
    };
  };

  const itemBody = (vault: VaultState, item: ProtectedItemState) => {
    const vm = world.workload.virtualMachines.get(item.vmId.toLowerCase())!;
    const failed = item.lastBackupStatus === 'Failed';
    const latest = item.recoveryPoints[0];
    const oldest = item.recoveryPoints[item.recoveryPoints.length - 1];
    return {
      id: `${vault.id}/backupFabrics/Azure/protectionContainers/${item.containerName}/protectedItems/${item.name}`,
      name: item.name,
      type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems',
      properties: {
        friendlyName: vm.name,
        virtualMachineId: vm.id,
        protectionStatus: failed ? 'Unhealthy' : 'Healthy',
        protectionState: protectionStateOf(item),
        healthStatus: failed ? 'ActionRequired' : 'Passed',
        lastBackupStatus: item.lastBackupStatus ?? '',
        lastBackupTime: item.lastBackupTime === undefined ? '2001-01-01T00:00:00Z' : iso(item.lastBackupTime),
        protectedItemDataId: item.protectedItemDataId,
        protectedItemType: 'Microsoft.Compute/virtualMachines',
        backupManagementType: 'AzureIaasVM',
        workloadType: 'VM',
        containerName: item.containerName.split(';').slice(1).join(';'),
        sourceResourceId: vm.id,
        policyId: policyId(vault, item.policyName),
        policyName: item.policyName,
        ...(latest ? { lastRecoveryPoint: iso(latest.time) } : {}),
        extendedInfo: {
          recoveryPointCount: item.recoveryPoints.length,
          policyInconsistent: false,
          ...(oldest ? { oldestRecoveryPoint: iso(oldest.time) } : {}),
        },
      },
    };
  };

  const jobBody = (vault: VaultState, job: BackupJob) => {
    const now = world.now();
    const vm = world.workload.virtualMachines.get(job.vmId.toLowerCase());
    const task = (taskId: string, from: number, to: number) => ({
      taskId,
      duration: timeSpan(Math.max(0, Math.min(now, to) - from)),
      status:
        now < from
          ? 'NotStarted'
          : now < to && job.status === 'InProgress'
            ? 'InProgress'
            : job.status === 'Failed'
              ? 'Failed'
              : 'Completed',
    });
    return {
      id: `${vault.id}/backupJobs/${job.id}`,
      name: job.id,
      type: 'Microsoft.RecoveryServices/vaults/backupJobs',
      properties: {
        jobType: 'AzureIaaSVMJob',
        duration: timeSpan((job.endTime ?? now) - job.startTime),
        virtualMachineVersion: 'Compute',
        entityFriendlyName: job.entityFriendlyName,
        backupManagementType: 'AzureIaasVM',
        operation: job.operation,
        status: job.status,
        startTime: iso(job.startTime),
        ...(job.endTime !== undefined ? { endTime: iso(job.endTime) } : {}),
        activityId: job.activityId,
        ...(job.error
          ? {
              errorDetails: [
                {
                  errorTitle: job.error.code,
                  errorString: job.error.message,
                  recommendations: [
                    'Resolve the cause, then trigger the backup again (or wait for the next scheduled one).',
                  ],
                },
              ],
            }
          : {}),
        extendedInfo: {
          tasksList:
            job.operation === 'Backup'
              ? [
                  task('Take Snapshot', job.startTime, job.snapshotEndsAt),
                  task('Transfer data to vault', job.snapshotEndsAt, job.endsAt),
                ]
              : [],
          propertyBag: {
            'VM Name': job.entityFriendlyName,
            ...(job.operation === 'Backup' && vm ? { 'Backup Size': `${vm.diskSizeGB * 1024} MB` } : {}),
          },
        },
      },
    };
  };

  const recoveryPointBody = (vault: VaultState, item: ProtectedItemState, point: RecoveryPoint) => {
    const vm = world.workload.virtualMachines.get(item.vmId.toLowerCase())!;
    const now = world.now();
    return {
      id: `${vault.id}/backupFabrics/Azure/protectionContainers/${item.containerName}/protectedItems/${item.name}/recoveryPoints/${point.name}`,
      name: point.name,
      type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectedItems/recoveryPoints',
      properties: {
        objectType: 'IaasVMRecoveryPoint',
        recoveryPointType: vm.osType === 'Windows' ? 'AppConsistent' : 'FileSystemConsistent',
        recoveryPointTime: iso(point.time),
        recoveryPointAdditionalInfo: '',
        sourceVMStorageType: 'NormalStorage',
        isSourceVMEncrypted: false,
        isInstantIlrSessionActive: false,
        recoveryPointTierDetails: [
          ...(now < point.instantUntil ? [{ type: 'InstantRP', status: 'Valid' }] : []),
          { type: 'HardenedRP', status: 'Valid' },
        ],
        isManagedVirtualMachine: true,
        virtualMachineSize: vm.vmSize,
        originalStorageAccountOption: false,
        recoveryPointExpiryTimeInUTC: iso(point.expiresAt),
      },
    };
  };

  const itemOf = (request: FastifyRequest, vault: VaultState) => {
    const { container, item } = request.params as Params;
    const found = vault.protectedItems.get(item!.toLowerCase());
    return found && found.containerName.toLowerCase() === container!.toLowerCase() ? found : undefined;
  };
  const noItem = (request: FastifyRequest, reply: Parameters<typeof send>[1]) => {
    const { item } = request.params as Params;
    return send(
      request,
      reply,
      404,
      armErrorBody('BMSUserErrorItemNotFound', `Item not found: the vault protects no item '${item}'.`),
    );
  };
  const operationHeaders = (request: FastifyRequest, vault: VaultState, operation: BackupOperation) => {
    const root = `${baseUrl(request)}${vault.id}/backupFabrics/Azure/protectionContainers/${operation.containerName}/protectedItems/${operation.itemName}`;
    return {
      'Azure-AsyncOperation': `${root}/operationsStatus/${operation.id}?api-version=${version(request)}`,
      Location: `${root}/operationResults/${operation.id}?api-version=${version(request)}`,
      'Retry-After': retryAfter(),
    };
  };

  app.get(vaultPath, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    return send(request, reply, 200, {
      id: vault.id,
      name: vault.name,
      type: 'Microsoft.RecoveryServices/vaults',
      location: vault.location,
      sku: { name: 'RS0', tier: 'Standard' },
      properties: { provisioningState: 'Succeeded' },
    });
  });

  app.get(`${vaultPath}/backupPolicies`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const filter = parseODataFilter((request.query as Record<string, string>)['$filter']);
    const wanted = filter.backupmanagementtype;
    const policies = wanted && wanted.toLowerCase() !== 'azureiaasvm' ? [] : vault.policies;
    return send(request, reply, 200, { value: policies.map((policy) => policyBody(vault, policy.name)) });
  });

  app.get(`${vaultPath}/backupPolicies/:policy`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const { policy } = request.params as Params;
    if (!vault.policies.some((entry) => entry.name.toLowerCase() === policy!.toLowerCase())) {
      return send(
        request,
        reply,
        404,
        armErrorBody('BMSUserErrorPolicyNotFound', `Policy '${policy}' was not found in vault ${vault.name}.`),
      );
    }
    return send(request, reply, 200, policyBody(vault, policy!));
  });

  app.post(`${vaultPath}/backupFabrics/:fabric/refreshContainers`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const operation = refreshContainers(world, vault);
    return send(request, reply, 202, undefined, {
      Location: `${baseUrl(request)}${vault.id}/backupFabrics/Azure/operationResults/${operation.id}?api-version=${version(request)}`,
      'Retry-After': retryAfter(),
    });
  });

  app.get(`${vaultPath}/backupFabrics/:fabric/operationResults/:operationId`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const operation = world.workload.backupOperations.get((request.params as Params).operationId!);
    if (!operation || operation.vaultId !== vault.id)
      return send(request, reply, 404, armErrorBody('NotFound', 'The operation was not found.'));
    if (operation.status === 'InProgress')
      return send(request, reply, 202, undefined, {
        Location: `${baseUrl(request)}${request.url}`,
        'Retry-After': retryAfter(),
      });
    return send(request, reply, 204);
  });

  app.get(`${vaultPath}/backupProtectableItems`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const filter = parseODataFilter((request.query as Record<string, string>)['$filter']);
    const wanted = filter.backupmanagementtype;
    const vms = wanted && wanted.toLowerCase() !== 'azureiaasvm' ? [] : protectableVms(world, vault);
    return send(request, reply, 200, {
      value: vms.map((vm) => {
        const { containerName } = vmBackupNames(vm);
        const name = containerName.split(';').slice(1).join(';');
        return {
          id: `${vault.id}/backupFabrics/Azure/protectionContainers/${containerName}/protectableItems/vm;${name}`,
          name,
          type: 'Microsoft.RecoveryServices/vaults/backupFabrics/protectionContainers/protectableItems',
          properties: {
            virtualMachineId: vm.id,
            virtualMachineVersion: 'Compute',
            resourceGroup: vm.resourceGroup,
            backupManagementType: 'AzureIaasVM',
            protectableItemType: 'Microsoft.Compute/virtualMachines',
            friendlyName: vm.name,
            protectionState: 'NotProtected',
          },
        };
      }),
    });
  });

  app.get(`${vaultPath}/backupProtectedItems`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    return send(request, reply, 200, {
      value: [...vault.protectedItems.values()].map((item) => itemBody(vault, item)),
    });
  });

  app.put(itemPath, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const { container, item } = request.params as Params;
    try {
      const operation = requestProtection(world, vault, container!, item!, request.body);
      return send(request, reply, 202, undefined, operationHeaders(request, vault, operation));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  app.get(itemPath, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const item = itemOf(request, vault);
    if (!item) return noItem(request, reply);
    return send(request, reply, 200, itemBody(vault, item));
  });

  app.post(`${itemPath}/backup`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const item = itemOf(request, vault);
    if (!item) return noItem(request, reply);
    try {
      const operation = triggerBackup(world, vault, item.name, request.body);
      return send(request, reply, 202, undefined, operationHeaders(request, vault, operation));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  const itemOperation = (request: FastifyRequest, vault: VaultState) => {
    const { operationId, item } = request.params as Params;
    const operation = world.workload.backupOperations.get(operationId!);
    return operation && operation.vaultId === vault.id && operation.itemName?.toLowerCase() === item!.toLowerCase()
      ? operation
      : undefined;
  };

  app.get(`${itemPath}/operationsStatus/:operationId`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const operation = itemOperation(request, vault);
    if (!operation) return send(request, reply, 404, armErrorBody('NotFound', 'The operation was not found.'));
    return send(
      request,
      reply,
      200,
      {
        id: operation.id,
        name: operation.id,
        status: operation.status,
        startTime: iso(operation.startTime),
        ...(operation.endTime !== undefined ? { endTime: iso(operation.endTime) } : {}),
        ...(operation.error ? { error: operation.error } : {}),
        ...(operation.jobId
          ? { properties: { objectType: 'OperationStatusJobExtendedInfo', jobId: operation.jobId } }
          : {}),
      },
      operation.status === 'InProgress' ? { 'Retry-After': retryAfter() } : {},
    );
  });

  app.get(`${itemPath}/operationResults/:operationId`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const operation = itemOperation(request, vault);
    if (!operation) return send(request, reply, 404, armErrorBody('NotFound', 'The operation was not found.'));
    if (operation.status === 'InProgress')
      return send(request, reply, 202, undefined, {
        Location: `${baseUrl(request)}${request.url}`,
        'Retry-After': retryAfter(),
      });
    if (operation.status === 'Failed')
      return send(request, reply, 400, armErrorBody(operation.error!.code, operation.error!.message));
    const item = operation.kind === 'protect' ? vault.protectedItems.get(operation.itemName!.toLowerCase()) : undefined;
    return item ? send(request, reply, 200, itemBody(vault, item)) : send(request, reply, 204);
  });

  app.get(`${itemPath}/recoveryPoints`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const item = itemOf(request, vault);
    if (!item) return noItem(request, reply);
    return send(request, reply, 200, {
      value: item.recoveryPoints.map((point) => recoveryPointBody(vault, item, point)),
    });
  });

  app.get(`${itemPath}/recoveryPoints/:recoveryPoint`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const item = itemOf(request, vault);
    if (!item) return noItem(request, reply);
    const { recoveryPoint } = request.params as Params;
    const point = item.recoveryPoints.find((entry) => entry.name === recoveryPoint);
    if (!point)
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'BMSUserErrorRecoveryPointNotFound',
          `Recovery point '${recoveryPoint}' of ${item.name} was not found (it may have expired).`,
        ),
      );
    return send(request, reply, 200, recoveryPointBody(vault, item, point));
  });

  app.get(`${vaultPath}/backupJobs`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const filter = parseODataFilter((request.query as Record<string, string>)['$filter']);
    const time = (text: string | undefined) =>
      text === undefined ? undefined : Date.parse(/z|utc|[+-]\d\d:?\d\d$/i.test(text) ? text : `${text} UTC`);
    const from = time(filter.starttime);
    const to = time(filter.endtime);
    const jobs = [...vault.jobs.values()]
      .filter(
        (job) =>
          (!filter.operation || job.operation.toLowerCase() === filter.operation.toLowerCase()) &&
          (!filter.status || job.status.toLowerCase() === filter.status.toLowerCase()) &&
          (!filter.backupmanagementtype || filter.backupmanagementtype.toLowerCase() === 'azureiaasvm') &&
          (from === undefined || Number.isNaN(from) || job.startTime >= from) &&
          (to === undefined || Number.isNaN(to) || job.startTime <= to),
      )
      .sort((a, b) => b.startTime - a.startTime);
    return send(request, reply, 200, { value: jobs.map((job) => jobBody(vault, job)) });
  });

  app.get(`${vaultPath}/backupJobs/:job`, async (request, reply) => {
    const vault = vaultOf(request);
    if (!vault) return noVault(request, reply);
    const job = vault.jobs.get((request.params as Params).job!);
    if (!job)
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'BMSUserErrorJobNotFound',
          `Job '${(request.params as Params).job}' was not found in vault ${vault.name}.`,
        ),
      );
    return send(request, reply, 200, jobBody(vault, job));
  });
}
