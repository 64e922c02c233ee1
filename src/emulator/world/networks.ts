/**
 * The instances' networks: virtual networks, their subnets and network security groups (Microsoft.Network), as the
 * world description declares them or, for an instance whose subnet it does not declare, as the world derives them. And
 * the one change the emulator takes on them: a PUT or DELETE of a security rule, long-running as the REST spec's
 * SecurityRules_CreateOrUpdate and SecurityRules_Delete are (`x-ms-long-running-operation`), applied when its
 * operation succeeds, one change at a time per network security group.
 *
 * Derived networks (none of this is Azure's; it keeps worlds without networks replicating as before): each vnet an
 * instance's `subnetId` names (by default `vnet-<location>` in its resource group) gets a `10.N.0.0/16` of its own, N
 * counting from 1 past the ranges the world declares; each of its subnets `10.N.K.0/24`; each subnet a network security
 * group `nsg-<subnet>-<location>` whose rules allow TCP 5022 and 11000-11999 inbound from and outbound to every other
 * derived subnet, above Azure's six default rules.
 *
 * Inferred: two changes to one network security group at once are refused with 429 `RetryableError` (issue
 * Azure/azure-sdk-for-python#556 quotes ARM's answer to a second security rule PUT while one runs); a change takes
 * `timings.securityRuleSeconds`.
 */
import { normalizeLocation } from '../../domain/locations';
import type { SecurityRuleSpec, WorldSpec } from '../world-spec';
import { startAsyncOperation } from './async-operations';
import type { WorldContext } from './context';
import {
  EmulatedArmError,
  type AsyncOperation,
  type InstanceState,
  type NetworkSecurityGroupState,
  type SecurityRuleState,
  type SubnetState,
  type VirtualNetworkState,
} from './state';

/** An inclusive range of IPv4 addresses (or of ports), as numbers. */
export interface Range {
  lo: number;
  hi: number;
}

/** `10.1.0.0/24` → its first and last address; undefined for what is not an IPv4 address or CIDR. */
export function parseCidr(text: string): Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(text.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  if (bits > 32) return undefined;
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  const lo = Math.floor(address / size) * size;
  return { lo, hi: lo + size - 1 };
}

export const overlaps = (a: Range, b: Range): boolean => a.lo <= b.hi && b.lo <= a.hi;

/** `/subscriptions/{s}/resourceGroups/{rg}/providers/Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}`. */
const SUBNET_ID =
  /^\/subscriptions\/([^/]+)\/resourceGroups\/([^/]+)\/providers\/Microsoft\.Network\/virtualNetworks\/([^/]+)\/subnets\/([^/]+)$/i;

export const vnetResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/virtualNetworks/${name}`;

export const nsgResourceId = (subscriptionId: string, resourceGroup: string, name: string): string =>
  `/subscriptions/${subscriptionId}/resourceGroups/${resourceGroup}/providers/Microsoft.Network/networkSecurityGroups/${name}`;

/** The subnet an instance lives in: its `subnetId`, or by default `vnet-<location>/subnets/mi` in its resource group. */
export function instanceSubnetId(
  instance: Pick<InstanceState, 'subnetId' | 'subscriptionId' | 'resourceGroup' | 'location'>,
): string {
  return (
    instance.subnetId ??
    `${vnetResourceId(instance.subscriptionId, instance.resourceGroup, `vnet-${instance.location}`)}/subnets/mi`
  );
}

/** The world's virtual networks and network security groups, by lower-case resource id. */
export interface Networks {
  virtualNetworks: Map<string, VirtualNetworkState>;
  securityGroups: Map<string, NetworkSecurityGroupState>;
}

/**
 * The networks of a world description: those it declares, and one derived for every instance whose subnet it does not
 * declare (see the module comment). Throws for a description that does not hold together (an NSG named by a subnet
 * that is not declared, an instance in a declared vnet's subnet that vnet does not have).
 */
export function networksFromSpec(spec: WorldSpec, instances: InstanceState[]): Networks {
  const virtualNetworks = new Map<string, VirtualNetworkState>();
  const securityGroups = new Map<string, NetworkSecurityGroupState>();
  for (const nsg of spec.networkSecurityGroups) {
    const subscriptionId = nsg.subscriptionId ?? spec.subscriptionId;
    const id = nsgResourceId(subscriptionId, nsg.resourceGroup, nsg.name);
    securityGroups.set(id.toLowerCase(), {
      id,
      name: nsg.name,
      subscriptionId,
      resourceGroup: nsg.resourceGroup,
      location: normalizeLocation(nsg.location),
      securityRules: nsg.securityRules.map((rule) => ({ ...rule })),
      derived: false,
    });
  }
  for (const vnet of spec.virtualNetworks) {
    const subscriptionId = vnet.subscriptionId ?? spec.subscriptionId;
    const id = vnetResourceId(subscriptionId, vnet.resourceGroup, vnet.name);
    const subnets = vnet.subnets.map((subnet): SubnetState => {
      let networkSecurityGroupId: string | undefined;
      if (subnet.networkSecurityGroup) {
        const nsgId = nsgResourceId(subscriptionId, vnet.resourceGroup, subnet.networkSecurityGroup);
        const nsg = securityGroups.get(nsgId.toLowerCase());
        if (!nsg) {
          throw new Error(
            `virtualNetworks ${vnet.name}: subnet ${subnet.name} names network security group ${subnet.networkSecurityGroup}, which networkSecurityGroups does not declare in resource group ${vnet.resourceGroup}`,
          );
        }
        networkSecurityGroupId = nsg.id;
      }
      return {
        id: `${id}/subnets/${subnet.name}`,
        name: subnet.name,
        addressPrefix: subnet.addressPrefix,
        networkSecurityGroupId,
      };
    });
    virtualNetworks.set(id.toLowerCase(), {
      id,
      name: vnet.name,
      subscriptionId,
      resourceGroup: vnet.resourceGroup,
      location: normalizeLocation(vnet.location),
      addressPrefixes: [...vnet.addressPrefixes],
      subnets,
      derived: false,
    });
  }

  // The subnets the instances name that the description does not declare, by vnet, in the instances' order.
  const wanted = new Map<
    string,
    { subscriptionId: string; resourceGroup: string; name: string; location: string; subnets: string[] }
  >();
  for (const instance of instances) {
    const subnetId = instanceSubnetId(instance);
    const match = SUBNET_ID.exec(subnetId);
    if (!match) continue; // not a subnet id the emulator can read: the instance has no network it can check
    const [, subscriptionId, resourceGroup, vnetName, subnetName] = match as unknown as string[];
    const vnetId = vnetResourceId(subscriptionId!, resourceGroup!, vnetName!).toLowerCase();
    const declared = virtualNetworks.get(vnetId);
    if (declared) {
      if (!declared.subnets.some((subnet) => subnet.name.toLowerCase() === subnetName!.toLowerCase())) {
        throw new Error(
          `instance ${instance.name}: its subnet ${subnetName} is not a subnet of virtual network ${declared.name}; declare it there or give the instance another subnetId`,
        );
      }
      continue;
    }
    const entry = wanted.get(vnetId) ?? {
      subscriptionId: subscriptionId!,
      resourceGroup: resourceGroup!,
      name: vnetName!,
      location: instance.location,
      subnets: [],
    };
    if (!entry.subnets.some((name) => name.toLowerCase() === subnetName!.toLowerCase()))
      entry.subnets.push(subnetName!);
    wanted.set(vnetId, entry);
  }

  const taken = [...virtualNetworks.values()].flatMap((vnet) =>
    vnet.addressPrefixes.map((prefix) => parseCidr(prefix)!),
  );
  let next = 1;
  const derivedSubnets: { subnet: SubnetState; vnet: VirtualNetworkState }[] = [];
  for (const entry of wanted.values()) {
    while (next < 256 && taken.some((range) => overlaps(range, parseCidr(`10.${next}.0.0/16`)!))) next += 1;
    if (next >= 256)
      throw new Error('the world has more virtual networks than the emulator can give address ranges to');
    const octet = next++;
    const id = vnetResourceId(entry.subscriptionId, entry.resourceGroup, entry.name);
    const vnet: VirtualNetworkState = {
      id,
      name: entry.name,
      subscriptionId: entry.subscriptionId,
      resourceGroup: entry.resourceGroup,
      location: entry.location,
      addressPrefixes: [`10.${octet}.0.0/16`],
      subnets: [],
      derived: true,
    };
    entry.subnets.forEach((name, index) => {
      const nsgId = nsgResourceId(entry.subscriptionId, entry.resourceGroup, `nsg-${name}-${entry.location}`);
      if (!securityGroups.has(nsgId.toLowerCase())) {
        securityGroups.set(nsgId.toLowerCase(), {
          id: nsgId,
          name: `nsg-${name}-${entry.location}`,
          subscriptionId: entry.subscriptionId,
          resourceGroup: entry.resourceGroup,
          location: entry.location,
          securityRules: [],
          derived: true,
        });
      }
      const subnet: SubnetState = {
        id: `${id}/subnets/${name}`,
        name,
        addressPrefix: `10.${octet}.${index}.0/24`,
        networkSecurityGroupId: securityGroups.get(nsgId.toLowerCase())!.id,
      };
      vnet.subnets.push(subnet);
      derivedSubnets.push({ subnet, vnet });
    });
    virtualNetworks.set(id.toLowerCase(), vnet);
  }

  // A derived NSG opens the geo-replication ports between its subnets and every other derived subnet.
  for (const nsg of securityGroups.values()) {
    if (!nsg.derived) continue;
    const own = derivedSubnets
      .filter(({ subnet }) => subnet.networkSecurityGroupId === nsg.id)
      .map(({ subnet }) => subnet.addressPrefix);
    const others = derivedSubnets.map(({ subnet }) => subnet.addressPrefix).filter((prefix) => !own.includes(prefix));
    if (own.length === 0 || others.length === 0) continue;
    const common = {
      access: 'Allow' as const,
      protocol: 'Tcp' as const,
      sourcePortRange: '*',
      destinationPortRanges: ['5022', '11000-11999'],
    };
    nsg.securityRules.push(
      {
        name: 'allow-geo-replication-inbound',
        priority: 100,
        direction: 'Inbound',
        description: 'Failover group replication from the partner subnets (derived by the emulator)',
        sourceAddressPrefixes: others,
        destinationAddressPrefixes: own,
        ...common,
      },
      {
        name: 'allow-geo-replication-outbound',
        priority: 100,
        direction: 'Outbound',
        description: 'Failover group replication to the partner subnets (derived by the emulator)',
        sourceAddressPrefixes: own,
        destinationAddressPrefixes: others,
        ...common,
      },
    );
  }
  return { virtualNetworks, securityGroups };
}

/** The subnet of the world with this id, and its vnet. */
export function subnetById(
  world: Pick<WorldContext, 'virtualNetworks'>,
  subnetId: string,
): { subnet: SubnetState; vnet: VirtualNetworkState } | undefined {
  const match = SUBNET_ID.exec(subnetId);
  if (!match) return undefined;
  const vnet = world.virtualNetworks.get(vnetResourceId(match[1]!, match[2]!, match[3]!).toLowerCase());
  const subnet = vnet?.subnets.find((entry) => entry.name.toLowerCase() === match[4]!.toLowerCase());
  return vnet && subnet ? { subnet, vnet } : undefined;
}

/** Azure's six default rules of every network security group (NetworkSecurityGroupGet, `defaultSecurityRules`). */
export const DEFAULT_SECURITY_RULES: readonly SecurityRuleState[] = [
  {
    name: 'AllowVnetInBound',
    description: 'Allow inbound traffic from all VMs in VNET',
    priority: 65000,
    direction: 'Inbound',
    access: 'Allow',
    sourceAddressPrefix: 'VirtualNetwork',
    destinationAddressPrefix: 'VirtualNetwork',
  },
  {
    name: 'AllowAzureLoadBalancerInBound',
    description: 'Allow inbound traffic from azure load balancer',
    priority: 65001,
    direction: 'Inbound',
    access: 'Allow',
    sourceAddressPrefix: 'AzureLoadBalancer',
    destinationAddressPrefix: '*',
  },
  {
    name: 'DenyAllInBound',
    description: 'Deny all inbound traffic',
    priority: 65500,
    direction: 'Inbound',
    access: 'Deny',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
  },
  {
    name: 'AllowVnetOutBound',
    description: 'Allow outbound traffic from all VMs to all VMs in VNET',
    priority: 65000,
    direction: 'Outbound',
    access: 'Allow',
    sourceAddressPrefix: 'VirtualNetwork',
    destinationAddressPrefix: 'VirtualNetwork',
  },
  {
    name: 'AllowInternetOutBound',
    description: 'Allow outbound traffic from all VMs to Internet',
    priority: 65001,
    direction: 'Outbound',
    access: 'Allow',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: 'Internet',
  },
  {
    name: 'DenyAllOutBound',
    description: 'Deny all outbound traffic',
    priority: 65500,
    direction: 'Outbound',
    access: 'Deny',
    sourceAddressPrefix: '*',
    destinationAddressPrefix: '*',
  },
].map((rule) => ({
  ...rule,
  direction: rule.direction as SecurityRuleState['direction'],
  access: rule.access as SecurityRuleState['access'],
  protocol: '*' as const,
  sourcePortRange: '*',
  destinationPortRange: '*',
}));

/**
 * Refuses a security rule body Azure refuses (the codes are Microsoft.Network's as clients record them; the checks the
 * emulator makes are the ones a runbook opening ports could get wrong). Returns the rule as the world keeps it.
 */
export function validateSecurityRule(nsg: NetworkSecurityGroupState, name: string, body: unknown): SecurityRuleState {
  const properties = ((body ?? {}) as { properties?: Record<string, unknown> }).properties;
  const invalid = (code: string, message: string) => new EmulatedArmError(400, code, message);
  if (!properties || typeof properties !== 'object')
    throw invalid('InvalidRequestFormat', 'Cannot parse the request: the security rule has no properties.');
  const priority = properties.priority;
  if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < 100 || priority > 4096) {
    throw invalid(
      'SecurityRuleInvalidPriority',
      `Security rule ${name} has invalid Priority ${String(priority)}. Value provided: ${String(priority)} Allowed range 100-4096.`,
    );
  }
  const pick = <T extends string>(field: string, allowed: readonly T[]): T => {
    const value = properties[field];
    const found = allowed.find((entry) => typeof value === 'string' && entry.toLowerCase() === value.toLowerCase());
    if (!found) {
      throw invalid(
        'InvalidRequestFormat',
        `Security rule ${name}: ${field} '${String(value)}' is not one of ${allowed.join(', ')}.`,
      );
    }
    return found;
  };
  const direction = pick('direction', ['Inbound', 'Outbound'] as const);
  const access = pick('access', ['Allow', 'Deny'] as const);
  const protocol = pick('protocol', ['Tcp', 'Udp', 'Icmp', 'Esp', 'Ah', '*'] as const);
  const text = (field: string) => {
    const value = properties[field];
    return typeof value === 'string' ? value : undefined;
  };
  const list = (field: string) =>
    Array.isArray(properties[field]) && (properties[field] as unknown[]).length > 0
      ? (properties[field] as unknown[]).map(String)
      : undefined;
  const rule: SecurityRuleState = {
    name,
    priority,
    direction,
    access,
    protocol,
    description: text('description'),
    sourceAddressPrefix: text('sourceAddressPrefix'),
    sourceAddressPrefixes: list('sourceAddressPrefixes'),
    sourcePortRange: text('sourcePortRange'),
    sourcePortRanges: list('sourcePortRanges'),
    destinationAddressPrefix: text('destinationAddressPrefix'),
    destinationAddressPrefixes: list('destinationAddressPrefixes'),
    destinationPortRange: text('destinationPortRange'),
    destinationPortRanges: list('destinationPortRanges'),
  };
  for (const [single, plural] of [
    ['sourceAddressPrefix', 'sourceAddressPrefixes'],
    ['destinationAddressPrefix', 'destinationAddressPrefixes'],
    ['sourcePortRange', 'sourcePortRanges'],
    ['destinationPortRange', 'destinationPortRanges'],
  ] as const) {
    if (rule[single] === undefined && rule[plural] === undefined) {
      throw invalid('InvalidRequestFormat', `Security rule ${name} must give ${single} or ${plural}.`);
    }
  }
  const clash = nsg.securityRules.find(
    (other) =>
      other.name.toLowerCase() !== name.toLowerCase() && other.priority === priority && other.direction === direction,
  );
  if (clash) {
    throw invalid(
      'SecurityRuleConflict',
      `Security rule ${name} conflicts with rule ${clash.name}. Rules cannot have the same Priority and Direction (${priority}, ${direction}).`,
    );
  }
  return Object.fromEntries(Object.entries(rule).filter(([, value]) => value !== undefined)) as SecurityRuleSpec;
}

/**
 * A PUT (with the rule) or DELETE of a security rule: long-running, the rule in force once its operation succeeds.
 * Refused with 429 `RetryableError` while another change of the same network security group runs.
 */
export function requestRuleChange(
  world: WorldContext,
  nsg: NetworkSecurityGroupState,
  kind: 'put' | 'delete',
  ruleName: string,
  rule?: SecurityRuleState,
): AsyncOperation {
  world.advance();
  if (nsg.pending) {
    const running = world.asyncOperations.get(nsg.pending.asyncOperationId);
    throw new EmulatedArmError(
      429,
      'RetryableError',
      `A retryable error occurred. Operation ${nsg.pending.kind === 'put' ? 'PutSecurityRuleOperation' : 'DeleteSecurityRuleOperation'} (${running?.id ?? nsg.pending.asyncOperationId}) is updating resource ${nsg.id} (rule ${nsg.pending.ruleName}). Send this change again once it has ended.`,
    );
  }
  const operation = startAsyncOperation(
    world,
    kind === 'put' ? 'security-rule-put' : 'security-rule-delete',
    nsg.subscriptionId,
    nsg.location,
    { type: 'none' },
  );
  nsg.pending = {
    kind,
    ruleName,
    rule,
    asyncOperationId: operation.id,
    dueAt: world.now() + world.timings.securityRuleSeconds * 1000,
  };
  world.record(kind === 'put' ? 'security-rule-put' : 'security-rule-delete', {
    detail: { networkSecurityGroup: nsg.name, rule: ruleName, dueAt: nsg.pending.dueAt },
  });
  return operation;
}

/** Applies the security rule changes that have come due, dated when they were due. */
export function advanceNetworks(world: WorldContext, now: number): void {
  for (const nsg of world.securityGroups.values()) {
    const pending = nsg.pending;
    if (!pending || now < pending.dueAt) continue;
    nsg.pending = undefined;
    const others = nsg.securityRules.filter((rule) => rule.name.toLowerCase() !== pending.ruleName.toLowerCase());
    nsg.securityRules = pending.kind === 'put' && pending.rule ? [...others, pending.rule] : others;
    const operation = world.asyncOperations.get(pending.asyncOperationId);
    if (operation?.status === 'InProgress') Object.assign(operation, { status: 'Succeeded', endTime: pending.dueAt });
    world.record(
      'security-rule-applied',
      { detail: { networkSecurityGroup: nsg.name, rule: pending.ruleName, change: pending.kind } },
      pending.dueAt,
    );
  }
}

/** The location of a vnet or network security group named by a request (for faults and dark regions). */
export function networkLocation(
  world: Pick<WorldContext, 'virtualNetworks' | 'securityGroups'>,
  subscriptionId: string,
  resourceGroup: string,
  kind: 'vnet' | 'nsg',
  name: string,
): string | undefined {
  const id =
    kind === 'vnet'
      ? vnetResourceId(subscriptionId, resourceGroup, name)
      : nsgResourceId(subscriptionId, resourceGroup, name);
  return (kind === 'vnet' ? world.virtualNetworks : world.securityGroups).get(id.toLowerCase())?.location;
}
