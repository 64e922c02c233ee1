/**
 * Microsoft.Network, the part a failover group's network checks read and a runbook's remedy writes: GET of a virtual
 * network and of its subnets (address prefix, network security group, delegation to Microsoft.Sql/managedInstances),
 * GET of a network security group (its rules, Azure's default rules, its subnets) and of its rules, and PUT and DELETE
 * of a security rule, long-running as the spec's SecurityRules_CreateOrUpdate (final state via Azure-AsyncOperation:
 * 200/201 with the rule `Updating`, then the rule) and SecurityRules_Delete (final state via Location: 202, then 204)
 * are. Their status URLs are Microsoft.Network's: `…/providers/Microsoft.Network/locations/{location}/operations/{id}`
 * (`{status}`, then `Succeeded`) and `…/operationResults/{id}` (202, then 204).
 *
 * Sources: Azure/azure-rest-api-specs, specification/network/resource-manager/Microsoft.Network (networkSecurityGroup.json:
 * SecurityRules_CreateOrUpdate, SecurityRules_Delete, x-ms-long-running-operation-options; examples VirtualNetworkGet,
 * SubnetGet, SubnetGetWithDelegation, NetworkSecurityGroupGet, NetworkSecurityGroupRuleCreate,
 * NetworkSecurityGroupRuleDelete). 404 bodies: `ResourceNotFound` for a top-level resource, `NotFound` for a child, as
 * ARM and Microsoft.Network answer them.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import { EmulatedArmError, type AsyncOperation } from '../world';
import { nsgResourceId, validateSecurityRule, vnetResourceId } from '../world/networks';
import type { ArmContext, Params } from './context';
import {
  networkSecurityGroupBody,
  securityRuleBody,
  subnetBody,
  virtualNetworkBody,
  visibleRules,
} from './network-bodies';
import { parentNotFound } from './resource-groups';

export const networkPath = '/subscriptions/:subscription/resourceGroups/:resourceGroup/providers/Microsoft.Network';
const networkAsyncPath = '/subscriptions/:subscription/providers/Microsoft.Network/locations/:location';

/** Registers the virtual network, subnet, network security group and security rule routes and their status URLs. */
export function registerNetworkRoutes(app: FastifyInstance, context: ArmContext): void {
  const { world, send, fail, baseUrl } = context;
  const apiVersion = (request: FastifyRequest) => String((request.query as Record<string, string>)['api-version']);
  const missing = (request: FastifyRequest, type: string, name: string) => {
    const { resourceGroup } = request.params as Params;
    return armErrorBody(
      'ResourceNotFound',
      `The Resource 'Microsoft.Network/${type}/${name}' under resource group '${resourceGroup}' was not found.`,
    );
  };
  const vnetOf = (request: FastifyRequest) => {
    const { subscription, resourceGroup, vnet } = request.params as Params;
    return world.virtualNetworks.get(vnetResourceId(subscription!, resourceGroup!, vnet!).toLowerCase());
  };
  const nsgOf = (request: FastifyRequest) => {
    const { subscription, resourceGroup, nsg } = request.params as Params;
    return world.securityGroups.get(nsgResourceId(subscription!, resourceGroup!, nsg!).toLowerCase());
  };
  const operationHeaders = (request: FastifyRequest, operation: AsyncOperation, withLocation: boolean) => {
    const root = `${baseUrl(request)}/subscriptions/${operation.subscriptionId}/providers/Microsoft.Network/locations/${operation.location}`;
    const version = apiVersion(request);
    return {
      'Azure-AsyncOperation': `${root}/operations/${operation.id}?api-version=${version}`,
      ...(withLocation ? { Location: `${root}/operationResults/${operation.id}?api-version=${version}` } : {}),
      'Retry-After': String(world.timings.asyncRetryAfterSeconds),
    };
  };

  app.get(`${networkPath}/virtualNetworks/:vnet`, async (request, reply) => {
    const vnet = vnetOf(request);
    if (!vnet) return send(request, reply, 404, missing(request, 'virtualNetworks', (request.params as Params).vnet!));
    return send(request, reply, 200, virtualNetworkBody(world, vnet));
  });

  app.get(`${networkPath}/virtualNetworks/:vnet/subnets`, async (request, reply) => {
    const vnet = vnetOf(request);
    if (!vnet) return send(request, reply, 404, missing(request, 'virtualNetworks', (request.params as Params).vnet!));
    return send(request, reply, 200, { value: vnet.subnets.map((subnet) => subnetBody(world, subnet)) });
  });

  app.get(`${networkPath}/virtualNetworks/:vnet/subnets/:subnet`, async (request, reply) => {
    const vnet = vnetOf(request);
    const { subnet: name } = request.params as Params;
    if (!vnet) return send(request, reply, 404, missing(request, 'virtualNetworks', (request.params as Params).vnet!));
    const subnet = vnet.subnets.find((entry) => entry.name.toLowerCase() === name!.toLowerCase());
    if (!subnet)
      return send(request, reply, 404, armErrorBody('NotFound', `Resource ${vnet.id}/subnets/${name} not found.`));
    return send(request, reply, 200, subnetBody(world, subnet));
  });

  app.get(`${networkPath}/networkSecurityGroups/:nsg`, async (request, reply) => {
    const nsg = nsgOf(request);
    if (!nsg)
      return send(request, reply, 404, missing(request, 'networkSecurityGroups', (request.params as Params).nsg!));
    return send(request, reply, 200, networkSecurityGroupBody(world, nsg));
  });

  app.get(`${networkPath}/networkSecurityGroups/:nsg/securityRules`, async (request, reply) => {
    const nsg = nsgOf(request);
    if (!nsg)
      return send(request, reply, 404, missing(request, 'networkSecurityGroups', (request.params as Params).nsg!));
    return send(request, reply, 200, {
      value: visibleRules(nsg).map(({ rule, provisioningState }) => securityRuleBody(nsg, rule, { provisioningState })),
    });
  });

  app.get(`${networkPath}/networkSecurityGroups/:nsg/securityRules/:rule`, async (request, reply) => {
    const nsg = nsgOf(request);
    const { subscription, resourceGroup, nsg: nsgName, rule: name } = request.params as Params;
    if (!nsg)
      return parentNotFound(
        context,
        request,
        reply,
        'networkSecurityGroups/securityRules',
        nsgResourceId(subscription!, resourceGroup!, nsgName!),
      );
    const found = visibleRules(nsg).find((entry) => entry.rule.name.toLowerCase() === name!.toLowerCase());
    if (!found)
      return send(request, reply, 404, armErrorBody('NotFound', `Resource ${nsg.id}/securityRules/${name} not found.`));
    return send(request, reply, 200, securityRuleBody(nsg, found.rule, { provisioningState: found.provisioningState }));
  });

  app.put(`${networkPath}/networkSecurityGroups/:nsg/securityRules/:rule`, async (request, reply) => {
    const nsg = nsgOf(request);
    const { subscription, resourceGroup, nsg: nsgName, rule: name } = request.params as Params;
    if (!nsg)
      return parentNotFound(
        context,
        request,
        reply,
        'networkSecurityGroups/securityRules',
        nsgResourceId(subscription!, resourceGroup!, nsgName!),
      );
    try {
      const rule = validateSecurityRule(nsg, name!, request.body);
      const exists = nsg.securityRules.some((entry) => entry.name.toLowerCase() === name!.toLowerCase());
      const operation = world.changeSecurityRule(nsg, 'put', name!, rule);
      return send(
        request,
        reply,
        exists ? 200 : 201,
        securityRuleBody(nsg, rule, { provisioningState: 'Updating' }),
        operationHeaders(request, operation, false),
      );
    } catch (error) {
      if (error instanceof EmulatedArmError && error.status === 429) {
        return send(request, reply, 429, armErrorBody(error.code, error.message), {
          'Retry-After': String(Math.max(1, world.timings.asyncRetryAfterSeconds)),
        });
      }
      return fail(request, reply, error);
    }
  });

  app.delete(`${networkPath}/networkSecurityGroups/:nsg/securityRules/:rule`, async (request, reply) => {
    const nsg = nsgOf(request);
    const { subscription, resourceGroup, nsg: nsgName, rule: name } = request.params as Params;
    if (!nsg)
      return parentNotFound(
        context,
        request,
        reply,
        'networkSecurityGroups/securityRules',
        nsgResourceId(subscription!, resourceGroup!, nsgName!),
      );
    if (!nsg.securityRules.some((entry) => entry.name.toLowerCase() === name!.toLowerCase()))
      return send(request, reply, 204);
    try {
      const operation = world.changeSecurityRule(nsg, 'delete', name!);
      return send(request, reply, 202, undefined, operationHeaders(request, operation, true));
    } catch (error) {
      if (error instanceof EmulatedArmError && error.status === 429) {
        return send(request, reply, 429, armErrorBody(error.code, error.message), {
          'Retry-After': String(Math.max(1, world.timings.asyncRetryAfterSeconds)),
        });
      }
      return fail(request, reply, error);
    }
  });

  const networkOperation = (request: FastifyRequest) => {
    const operation = world.asyncOperations.get((request.params as Params).operationId!);
    return operation && operation.kind.startsWith('security-rule') ? operation : undefined;
  };

  // Microsoft.Network's AzureAsyncOperationResult: {status, error}.
  app.get(`${networkAsyncPath}/operations/:operationId`, async (request, reply) => {
    const operation = networkOperation(request);
    if (!operation) return send(request, reply, 404, armErrorBody('NotFound', 'The operation was not found.'));
    const body: Record<string, unknown> = { status: operation.status };
    if (operation.error) body.error = { code: operation.error.code, message: operation.error.message };
    const headers: Record<string, string> =
      operation.status === 'InProgress' ? { 'Retry-After': String(world.timings.asyncRetryAfterSeconds) } : {};
    return send(request, reply, 200, body, headers);
  });

  app.get(`${networkAsyncPath}/operationResults/:operationId`, async (request, reply) => {
    const operation = networkOperation(request);
    if (!operation) return send(request, reply, 404, armErrorBody('NotFound', 'The operation result was not found.'));
    if (operation.status === 'InProgress')
      return send(request, reply, 202, undefined, {
        'Retry-After': String(world.timings.asyncRetryAfterSeconds),
        Location: `${baseUrl(request)}${request.url}`,
      });
    return send(request, reply, 204);
  });
}
