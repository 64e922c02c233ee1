/**
 * Whether the two instances of a new failover group can replicate over their networks, as Azure checks before it
 * creates the group (refusal `InstanceFailoverGroupIncorrectNetworkingConfiguration`, in the REST spec's error list):
 * their subnets' address ranges must not overlap, and their network security groups must let TCP 5022 and the redirect
 * range 11000-11999 through both ways between the subnets (../shared/reference/azure-sql-mi-failover.md, "More facts":
 * Network; Learn, "Configure a failover group for Azure SQL Managed Instance", the NSG rules between the subnets).
 *
 * Each flow (source subnet → destination subnet, one port range) is checked outbound at the source subnet's NSG and
 * inbound at the destination's, as Azure evaluates rules: by priority, the first rule that matches decides, Azure's six
 * default rules last. A flow passes only if every address of the source subnet, to every address of the destination
 * subnet, from any client port (1024-65535), to every port of the range, is allowed. Address fields match as Azure's
 * do: `*`, `Any` and `0.0.0.0/0` everything; a CIDR or address its range; the `VirtualNetwork` tag the address space of
 * every vnet of the world (inferred: failover groups need the two vnets peered, so the tag covers the partner subnet);
 * `AzureLoadBalancer` 168.63.129.16; `Internet` and other service tags no address of the world's vnets. A subnet with
 * no NSG lets everything through. Application security groups are not modelled.
 */
import type { WorldContext } from './context';
import { DEFAULT_SECURITY_RULES, instanceSubnetId, overlaps, parseCidr, subnetById, type Range } from './networks';
import type { InstanceState, NetworkSecurityGroupState, SecurityRuleState, SubnetState } from './state';

/** The ports a failover group's replication needs between the two subnets. */
export const GEO_REPLICATION_PORTS: readonly { label: string; range: Range }[] = [
  { label: '5022', range: { lo: 5022, hi: 5022 } },
  { label: '11000-11999', range: { lo: 11000, hi: 11999 } },
];

/** The client ports a connection may come from. */
const CLIENT_PORTS: Range = { lo: 1024, hi: 65535 };
const ALL_ADDRESSES: Range = { lo: 0, hi: 2 ** 32 - 1 };
const ALL_PORTS: Range = { lo: 0, hi: 65535 };

interface Side {
  instance: InstanceState;
  subnet: SubnetState;
  range: Range;
  nsg?: NetworkSecurityGroupState;
}

/**
 * Why the pair cannot replicate over its networks, with the evidence (a message for
 * `InstanceFailoverGroupIncorrectNetworkingConfiguration`), or undefined when it can.
 */
export function networkRefusal(
  world: WorldContext,
  primary: InstanceState,
  partner: InstanceState,
): string | undefined {
  const sides: Side[] = [];
  for (const instance of [primary, partner]) {
    const subnetId = instanceSubnetId(instance);
    const found = subnetById(world, subnetId);
    if (!found)
      return `${instance.name}'s subnet ${subnetId} is not a subnet the emulator's world has, so replication to it cannot be established.`;
    const range = parseCidr(found.subnet.addressPrefix)!;
    const nsgId = found.subnet.networkSecurityGroupId;
    sides.push({
      instance,
      subnet: found.subnet,
      range,
      nsg: nsgId ? world.securityGroups.get(nsgId.toLowerCase()) : undefined,
    });
  }
  const [a, b] = sides as [Side, Side];
  if (overlaps(a.range, b.range)) {
    return (
      `The address ranges of the two instances' subnets overlap: ${a.instance.name} is in ${a.subnet.name} ` +
      `(${a.subnet.addressPrefix}) and ${b.instance.name} in ${b.subnet.name} (${b.subnet.addressPrefix}). ` +
      'Replication between the instances needs non-overlapping ranges: create the secondary in a subnet of another range.'
    );
  }
  const problems: string[] = [];
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const ports of GEO_REPLICATION_PORTS) {
      for (const [at, direction] of [
        [from, 'Outbound'],
        [to, 'Inbound'],
      ] as const) {
        const denial = firstDenial(world, at.nsg, direction, from.range, to.range, ports.range);
        if (denial) {
          problems.push(
            `TCP ${describePorts(denial.ports, ports.label)} from ${from.instance.name}'s subnet ${from.subnet.addressPrefix} to ` +
              `${to.instance.name}'s subnet ${to.subnet.addressPrefix} is denied ${direction.toLowerCase()} by ` +
              `${at.nsg!.name} rule ${denial.rule.name} (priority ${denial.rule.priority}, ${denial.rule.access})`,
          );
        }
      }
    }
  }
  if (problems.length === 0) return undefined;
  return (
    `The network security groups do not let the instances replicate: ${problems.join('; ')}. ` +
    'A failover group needs TCP 5022 and 11000-11999 open inbound and outbound between the two subnets: add Allow rules ' +
    'with a lower priority number than the rules that deny them, on both network security groups.'
  );
}

function describePorts(ports: Range, label: string): string {
  const text = ports.lo === ports.hi ? String(ports.lo) : `${ports.lo}-${ports.hi}`;
  return text === label ? text : `${text} (of ${label})`;
}

/** The rules of an NSG in one direction, in the order Azure evaluates them. */
function rulesOf(nsg: NetworkSecurityGroupState, direction: 'Inbound' | 'Outbound'): SecurityRuleState[] {
  return [
    ...nsg.securityRules.filter((rule) => rule.direction === direction).sort((x, y) => x.priority - y.priority),
    ...DEFAULT_SECURITY_RULES.filter((rule) => rule.direction === direction),
  ];
}

/** What an address field of a rule covers. */
function addressRanges(world: WorldContext, single: string | undefined, plural: string[] | undefined): Range[] {
  const values = plural ?? (single !== undefined ? [single] : []);
  return values.flatMap((value): Range[] => {
    const text = value.trim();
    if (text === '*' || /^any$/i.test(text)) return [ALL_ADDRESSES];
    if (/^virtualnetwork$/i.test(text)) {
      return [...world.virtualNetworks.values()].flatMap((vnet) =>
        vnet.addressPrefixes.flatMap((prefix) => parseCidr(prefix) ?? []),
      );
    }
    if (/^azureloadbalancer$/i.test(text)) return [parseCidr('168.63.129.16')!];
    const range = parseCidr(text);
    return range ? [range] : [];
  });
}

/** What a port field of a rule covers. */
function portRanges(single: string | undefined, plural: string[] | undefined): Range[] {
  const values = plural ?? (single !== undefined ? [single] : []);
  return values.flatMap((value): Range[] => {
    const text = value.trim();
    if (text === '*' || /^any$/i.test(text)) return [ALL_PORTS];
    const match = /^(\d+)(?:-(\d+))?$/.exec(text);
    if (!match) return [];
    return [{ lo: Number(match[1]), hi: Number(match[2] ?? match[1]) }];
  });
}

const protocolMatchesTcp = (protocol: string) => ['*', 'tcp', 'any'].includes(protocol.toLowerCase());

interface CompiledRule {
  rule: SecurityRuleState;
  tcp: boolean;
  sources: Range[];
  destinations: Range[];
  sourcePorts: Range[];
  destinationPorts: Range[];
}

/** The representative points of the pieces `ranges` cut `flow` into: within a piece, every rule answers alike. */
function pieces(flow: Range, ranges: Range[]): Range[] {
  const cuts = new Set<number>([flow.lo]);
  for (const range of ranges) {
    if (range.lo > flow.lo && range.lo <= flow.hi) cuts.add(range.lo);
    if (range.hi + 1 > flow.lo && range.hi + 1 <= flow.hi) cuts.add(range.hi + 1);
  }
  const sorted = [...cuts].sort((x, y) => x - y);
  return sorted.map((lo, index) => ({ lo, hi: index + 1 < sorted.length ? sorted[index + 1]! - 1 : flow.hi }));
}

const within = (value: number, ranges: Range[]) => ranges.some((range) => value >= range.lo && value <= range.hi);

/**
 * The first piece of the flow (source subnet → destination subnet, TCP to `ports`) that the NSG denies in
 * `direction`, with the rule that denies it; undefined when it allows all of it (or there is no NSG).
 */
function firstDenial(
  world: WorldContext,
  nsg: NetworkSecurityGroupState | undefined,
  direction: 'Inbound' | 'Outbound',
  source: Range,
  destination: Range,
  ports: Range,
): { rule: SecurityRuleState; ports: Range } | undefined {
  if (!nsg) return undefined;
  const rules: CompiledRule[] = rulesOf(nsg, direction).map((rule) => ({
    rule,
    tcp: protocolMatchesTcp(rule.protocol),
    sources: addressRanges(world, rule.sourceAddressPrefix, rule.sourceAddressPrefixes),
    destinations: addressRanges(world, rule.destinationAddressPrefix, rule.destinationAddressPrefixes),
    sourcePorts: portRanges(rule.sourcePortRange, rule.sourcePortRanges),
    destinationPorts: portRanges(rule.destinationPortRange, rule.destinationPortRanges),
  }));
  const tcpRules = rules.filter((rule) => rule.tcp);
  const sourcePieces = pieces(
    source,
    tcpRules.flatMap((rule) => rule.sources),
  );
  const destinationPieces = pieces(
    destination,
    tcpRules.flatMap((rule) => rule.destinations),
  );
  const clientPieces = pieces(
    CLIENT_PORTS,
    tcpRules.flatMap((rule) => rule.sourcePorts),
  );
  const portPieces = pieces(
    ports,
    tcpRules.flatMap((rule) => rule.destinationPorts),
  );
  for (const port of portPieces) {
    for (const from of sourcePieces) {
      for (const to of destinationPieces) {
        for (const client of clientPieces) {
          const decides = tcpRules.find(
            (rule) =>
              within(from.lo, rule.sources) &&
              within(to.lo, rule.destinations) &&
              within(client.lo, rule.sourcePorts) &&
              within(port.lo, rule.destinationPorts),
          );
          if (!decides || decides.rule.access === 'Deny') {
            return {
              rule:
                decides?.rule ??
                DEFAULT_SECURITY_RULES.find((rule) => rule.direction === direction && rule.access === 'Deny')!,
              ports: port,
            };
          }
        }
      }
    }
  }
  return undefined;
}
