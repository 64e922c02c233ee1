/**
 * Microsoft.Network response bodies with the shapes of the REST specification's examples (Azure/azure-rest-api-specs,
 * specification/network/resource-manager/Microsoft.Network, examples VirtualNetworkGet, SubnetGet,
 * SubnetGetWithDelegation, NetworkSecurityGroupGet, NetworkSecurityGroupRuleCreate): the resource's `id`, `name`,
 * `type`, `location` (top-level resources), and `properties` with `provisioningState`.
 */
import type { World } from '../world';
import { DEFAULT_SECURITY_RULES, instanceSubnetId } from '../world/networks';
import type { NetworkSecurityGroupState, SecurityRuleState, SubnetState, VirtualNetworkState } from '../world/state';

/** The actions a subnet delegated to Microsoft.Sql/managedInstances grants (what Azure adds to the delegation). */
const MANAGED_INSTANCE_DELEGATION_ACTIONS = [
  'Microsoft.Network/virtualNetworks/subnets/join/action',
  'Microsoft.Network/virtualNetworks/subnets/prepareNetworkPolicies/action',
  'Microsoft.Network/virtualNetworks/subnets/unprepareNetworkPolicies/action',
];

/** Whether a managed instance of the world lives in the subnet (a managed instance's subnet is delegated to it). */
function hostsManagedInstance(world: World, subnet: SubnetState): boolean {
  return [...world.instances.values()].some(
    (instance) => instanceSubnetId(instance).toLowerCase() === subnet.id.toLowerCase(),
  );
}

export function subnetBody(world: World, subnet: SubnetState): Record<string, unknown> {
  const properties: Record<string, unknown> = {
    provisioningState: 'Succeeded',
    addressPrefix: subnet.addressPrefix,
  };
  if (subnet.networkSecurityGroupId) properties.networkSecurityGroup = { id: subnet.networkSecurityGroupId };
  properties.delegations = hostsManagedInstance(world, subnet)
    ? [
        {
          name: 'managedInstanceDelegation',
          id: `${subnet.id}/delegations/managedInstanceDelegation`,
          type: 'Microsoft.Network/virtualNetworks/subnets/delegations',
          properties: {
            provisioningState: 'Succeeded',
            serviceName: 'Microsoft.Sql/managedInstances',
            actions: MANAGED_INSTANCE_DELEGATION_ACTIONS,
          },
        },
      ]
    : [];
  properties.privateEndpointNetworkPolicies = 'Disabled';
  properties.privateLinkServiceNetworkPolicies = 'Enabled';
  return { id: subnet.id, name: subnet.name, type: 'Microsoft.Network/virtualNetworks/subnets', properties };
}

/**
 * A virtual network with its subnets. Every other vnet of the world is listed as a connected peering (inferred: a
 * failover group needs its two vnets peered, and the emulator takes every two of its vnets to be).
 */
export function virtualNetworkBody(world: World, vnet: VirtualNetworkState): Record<string, unknown> {
  const peers = [...world.virtualNetworks.values()].filter((other) => other.id !== vnet.id);
  return {
    id: vnet.id,
    name: vnet.name,
    type: 'Microsoft.Network/virtualNetworks',
    location: vnet.location,
    properties: {
      provisioningState: 'Succeeded',
      addressSpace: { addressPrefixes: [...vnet.addressPrefixes] },
      subnets: vnet.subnets.map((subnet) => subnetBody(world, subnet)),
      virtualNetworkPeerings: peers.map((peer) => ({
        id: `${vnet.id}/virtualNetworkPeerings/peer-${peer.name}-${peer.location}`,
        name: `peer-${peer.name}-${peer.location}`,
        type: 'Microsoft.Network/virtualNetworks/virtualNetworkPeerings',
        properties: {
          provisioningState: 'Succeeded',
          peeringState: 'Connected',
          remoteVirtualNetwork: { id: peer.id },
          remoteAddressSpace: { addressPrefixes: [...peer.addressPrefixes] },
          allowVirtualNetworkAccess: true,
          allowForwardedTraffic: false,
          allowGatewayTransit: false,
          useRemoteGateways: false,
        },
      })),
    },
  };
}

/** A security rule: single and plural address and port fields both present, as Azure answers them. */
export function securityRuleBody(
  nsg: NetworkSecurityGroupState,
  rule: SecurityRuleState,
  options: { provisioningState?: string; defaultRule?: boolean } = {},
): Record<string, unknown> {
  const kind = options.defaultRule ? 'defaultSecurityRules' : 'securityRules';
  const properties: Record<string, unknown> = {
    provisioningState: options.provisioningState ?? 'Succeeded',
    protocol: rule.protocol,
    sourcePortRange: rule.sourcePortRange,
    destinationPortRange: rule.destinationPortRange,
    sourceAddressPrefix: rule.sourceAddressPrefix,
    destinationAddressPrefix: rule.destinationAddressPrefix,
    access: rule.access,
    priority: rule.priority,
    direction: rule.direction,
    sourcePortRanges: rule.sourcePortRanges ?? [],
    destinationPortRanges: rule.destinationPortRanges ?? [],
    sourceAddressPrefixes: rule.sourceAddressPrefixes ?? [],
    destinationAddressPrefixes: rule.destinationAddressPrefixes ?? [],
  };
  if (rule.description !== undefined) properties.description = rule.description;
  for (const [field, value] of Object.entries(properties)) if (value === undefined) delete properties[field];
  return {
    id: `${nsg.id}/${kind}/${rule.name}`,
    name: rule.name,
    type: `Microsoft.Network/networkSecurityGroups/${kind}`,
    properties,
  };
}

/**
 * The rules ARM shows: those in force, with a change being applied shown as Azure shows it (the new version
 * `Updating`, a rule being removed `Deleting`).
 */
export function visibleRules(nsg: NetworkSecurityGroupState): { rule: SecurityRuleState; provisioningState: string }[] {
  const pending = nsg.pending;
  const rules = nsg.securityRules.map((rule) => ({
    rule,
    provisioningState:
      pending && rule.name.toLowerCase() === pending.ruleName.toLowerCase()
        ? pending.kind === 'delete'
          ? 'Deleting'
          : 'Updating'
        : 'Succeeded',
  }));
  if (pending?.kind === 'put' && pending.rule) {
    const index = rules.findIndex((entry) => entry.rule.name.toLowerCase() === pending.ruleName.toLowerCase());
    const entry = { rule: pending.rule, provisioningState: 'Updating' };
    if (index >= 0) rules[index] = entry;
    else rules.push(entry);
  }
  return rules;
}

export function networkSecurityGroupBody(world: World, nsg: NetworkSecurityGroupState): Record<string, unknown> {
  const subnets = [...world.virtualNetworks.values()]
    .flatMap((vnet) => vnet.subnets)
    .filter((subnet) => subnet.networkSecurityGroupId?.toLowerCase() === nsg.id.toLowerCase());
  return {
    id: nsg.id,
    name: nsg.name,
    type: 'Microsoft.Network/networkSecurityGroups',
    location: nsg.location,
    properties: {
      provisioningState: nsg.pending ? 'Updating' : 'Succeeded',
      securityRules: visibleRules(nsg).map(({ rule, provisioningState }) =>
        securityRuleBody(nsg, rule, { provisioningState }),
      ),
      defaultSecurityRules: DEFAULT_SECURITY_RULES.map((rule) => securityRuleBody(nsg, rule, { defaultRule: true })),
      subnets: subnets.map((subnet) => ({ id: subnet.id })),
    },
  };
}
