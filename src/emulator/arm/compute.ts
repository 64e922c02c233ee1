/**
 * Microsoft.Compute, the part a backup runbook reads: GET of a virtual machine (and the list of a resource group's), in
 * the minimal shape of the spec's VirtualMachine (id, name, type, location, `properties.vmId`,
 * `hardwareProfile.vmSize`, `storageProfile.osDisk` with `osType` and `diskSizeGB`, `provisioningState`).
 *
 * Sources: azure-rest-api-specs specification/compute (ComputeRP virtualMachine.json, VirtualMachines_Get). The
 * world's VMs: ../world/workload.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import { virtualMachineResourceId, type VirtualMachineState } from '../world/workload-state';
import type { ArmContext, Params } from './context';

export const computePath = '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Compute';

/** A VM as `VirtualMachines_Get` answers it (the fields the emulator models). */
export function virtualMachineBody(vm: VirtualMachineState): Record<string, unknown> {
  return {
    id: vm.id,
    name: vm.name,
    type: 'Microsoft.Compute/virtualMachines',
    location: vm.location,
    properties: {
      vmId: vm.vmId,
      hardwareProfile: { vmSize: vm.vmSize },
      storageProfile: {
        osDisk: {
          osType: vm.osType,
          name: `${vm.name}_OsDisk_1`,
          createOption: 'FromImage',
          diskSizeGB: vm.diskSizeGB,
        },
        dataDisks: [],
      },
      provisioningState: 'Succeeded',
    },
  };
}

/** Registers the virtual machine routes. */
export function registerComputeRoutes(app: FastifyInstance, { world, send }: ArmContext): void {
  const vmOf = (request: FastifyRequest) => {
    const { subscription, resourceGroup, vm } = request.params as Params;
    return world.workload.virtualMachines.get(
      virtualMachineResourceId(subscription!, resourceGroup!, vm!).toLowerCase(),
    );
  };

  app.get(`${computePath}/virtualMachines`, async (request, reply) => {
    const { subscription, resourceGroup } = request.params as Params;
    const vms = [...world.workload.virtualMachines.values()].filter(
      (vm) =>
        vm.subscriptionId.toLowerCase() === subscription!.toLowerCase() &&
        vm.resourceGroup.toLowerCase() === resourceGroup!.toLowerCase(),
    );
    return send(request, reply, 200, { value: vms.map(virtualMachineBody) });
  });

  app.get(`${computePath}/virtualMachines/:vm`, async (request, reply) => {
    const vm = vmOf(request);
    if (!vm) {
      const { resourceGroup, vm: name } = request.params as Params;
      return send(
        request,
        reply,
        404,
        armErrorBody(
          'ResourceNotFound',
          `The Resource 'Microsoft.Compute/virtualMachines/${name}' under resource group '${resourceGroup}' was not found.`,
        ),
      );
    }
    return send(request, reply, 200, virtualMachineBody(vm));
  });
}
