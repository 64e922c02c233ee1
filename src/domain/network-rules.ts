/**
 * Whether two managed instances' subnets let geo-replication through: the failover-group guidance requires TCP 5022
 * and the redirect range 11000–11999 open both ways between the subnets, and address ranges that do not overlap
 * (../shared/reference/azure-sql-mi-failover.md, "Network").
 *
 * Network security groups are evaluated as Azure does: per direction, rules in priority order (lowest number first),
 * the first rule that matches a flow decides, Azure's default rules last. A flow from subnet A to subnet B must pass A's
 * outbound rules and B's inbound rules. Only IPv4 prefixes are understood.
 *
 * Judged to the safe side: an Allow rule counts for a flow only when its prefixes cover the whole subnet; a Deny rule
 * counts when it covers any of it. Service tags other than `VirtualNetwork` match nothing here (`Internet`,
 * `AzureLoadBalancer` and the rest never name another subnet's private addresses). `VirtualNetwork` is taken to cover
 * the partner subnet: it does when the two virtual networks are peered, which the guidance requires and this check
 * cannot see; the evidence says when a verdict rests on it.
 */
import type { NetworkSecurityGroupView, SecurityRuleView, SubnetView } from './azure-state';

/** The ports geo-replication between the instances of a failover group needs: 5022 and the redirect range. */
export const GEO_REPLICATION_PORTS: readonly { from: number; to: number }[] = [
  { from: 5022, to: 5022 },
  { from: 11000, to: 11999 },
];

interface Ipv4Range {
  first: number;
  last: number;
}

/** `10.1.0.0/24` → its first and last address as numbers; undefined for anything that is not an IPv4 CIDR or address. */
export function parseIpv4Prefix(prefix: string): Ipv4Range | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(prefix.trim());
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  if (octets.some((octet) => octet > 255)) return undefined;
  const bits = match[5] === undefined ? 32 : Number(match[5]);
  if (bits > 32) return undefined;
  const address = octets.reduce((sum, octet) => sum * 256 + octet, 0);
  const size = 2 ** (32 - bits);
  const first = Math.floor(address / size) * size;
  return { first, last: first + size - 1 };
}

/** Whether two prefix lists share any address (unparseable prefixes are ignored). */
export function prefixesOverlap(a: string[], b: string[]): boolean {
  const left = a.map(parseIpv4Prefix).filter((range): range is Ipv4Range => range !== undefined);
  const right = b.map(parseIpv4Prefix).filter((range): range is Ipv4Range => range !== undefined);
  return left.some((x) => right.some((y) => x.first <= y.last && y.first <= x.last));
}

type PrefixMatch = 'all' | 'part' | 'none';

const ANY_PREFIXES = new Set(['*', 'any', '0.0.0.0/0', 'internet-and-private']);

/** How much of `subnet` (its address prefixes) the rule prefixes cover, and whether that rests on a service tag. */
function coverage(rulePrefixes: string[], subnet: string[]): { match: PrefixMatch; viaTag: boolean } {
  const normalized = rulePrefixes.map((prefix) => prefix.trim().toLowerCase());
  if (normalized.some((prefix) => ANY_PREFIXES.has(prefix))) return { match: 'all', viaTag: false };
  if (normalized.includes('virtualnetwork')) return { match: 'all', viaTag: true };
  const ranges = rulePrefixes.map(parseIpv4Prefix).filter((range): range is Ipv4Range => range !== undefined);
  const targets = subnet.map(parseIpv4Prefix).filter((range): range is Ipv4Range => range !== undefined);
  if (targets.length === 0) return { match: 'none', viaTag: false };
  const whole = targets.every((target) =>
    ranges.some((range) => range.first <= target.first && target.last <= range.last),
  );
  if (whole) return { match: 'all', viaTag: false };
  const some = targets.some((target) =>
    ranges.some((range) => range.first <= target.last && target.first <= range.last),
  );
  return { match: some ? 'part' : 'none', viaTag: false };
}

function portInRanges(port: number, ranges: string[]): boolean {
  return ranges.some((range) => {
    const value = range.trim();
    if (value === '*') return true;
    const [low, high] = value.split('-').map((part) => Number(part.trim()));
    if (low === undefined || !Number.isInteger(low)) return false;
    return port >= low && port <= (high !== undefined && Number.isInteger(high) ? high : low);
  });
}

function protocolCoversTcp(protocol: string): boolean {
  const value = protocol.trim().toLowerCase();
  return value === '*' || value === 'tcp' || value === 'any';
}

/** One direction of a flow between two subnets, as one NSG sees it. */
export interface FlowQuestion {
  direction: 'Inbound' | 'Outbound';
  sourcePrefixes: string[];
  destinationPrefixes: string[];
  port: number;
}

export interface FlowVerdict {
  allowed: boolean;
  /** The rule that decided (`(no NSG)` when the subnet has none: nothing filters it). */
  rule: string;
  /** The decision rests on the `VirtualNetwork` tag covering the partner subnet (true when the vnets are peered). */
  viaServiceTag: boolean;
}

/** The first rule of `nsg` (own rules, then defaults, each by priority) that matches the flow decides it. */
export function evaluateFlow(nsg: NetworkSecurityGroupView | undefined, flow: FlowQuestion): FlowVerdict {
  if (!nsg) return { allowed: true, rule: '(no NSG)', viaServiceTag: false };
  const ordered = (rules: SecurityRuleView[]) =>
    rules
      .filter((rule) => rule.direction.toLowerCase() === flow.direction.toLowerCase())
      .sort((a, b) => a.priority - b.priority);
  for (const rule of [...ordered(nsg.securityRules), ...ordered(nsg.defaultSecurityRules)]) {
    if (!protocolCoversTcp(rule.protocol)) continue;
    if (!portInRanges(flow.port, rule.destinationPortRanges)) continue;
    const source = coverage(rule.sourceAddressPrefixes, flow.sourcePrefixes);
    const destination = coverage(rule.destinationAddressPrefixes, flow.destinationPrefixes);
    const allow = rule.access.toLowerCase() === 'allow';
    const matches = allow
      ? source.match === 'all' && destination.match === 'all'
      : source.match !== 'none' && destination.match !== 'none';
    if (matches) return { allowed: allow, rule: rule.name, viaServiceTag: source.viaTag || destination.viaTag };
  }
  // Azure's defaults end in DenyAll; an NSG answered without them denies what no rule allows, as Azure would.
  return { allowed: false, rule: '(no rule matched)', viaServiceTag: false };
}

/** One side of the pair: its subnet and the NSG on it (undefined: the subnet has none). */
export interface SubnetSide {
  instance: string;
  subnet: SubnetView;
  nsg?: NetworkSecurityGroupView;
}

/** A port range one NSG blocks for one direction of geo-replication. */
export interface BlockedFlow {
  from: string;
  to: string;
  /** Whose NSG blocks it, and in which direction it evaluates the flow. */
  blockedBy: string;
  direction: 'Inbound' | 'Outbound';
  ports: string;
  rule: string;
}

export interface GeoReplicationNetworkVerdict {
  overlapping: boolean;
  blocked: BlockedFlow[];
  /** Some allowing verdict rests on the `VirtualNetwork` tag (true only when the two vnets are peered). */
  reliesOnPeering: boolean;
}

/** Checks TCP 5022 and 11000–11999 both ways between the two subnets, and that their ranges do not overlap. */
export function checkGeoReplicationNetwork(a: SubnetSide, b: SubnetSide): GeoReplicationNetworkVerdict {
  const blocked: BlockedFlow[] = [];
  let reliesOnPeering = false;
  for (const [from, to] of [
    [a, b],
    [b, a],
  ] as const) {
    for (const [side, direction] of [
      [from, 'Outbound'],
      [to, 'Inbound'],
    ] as const) {
      for (const ports of GEO_REPLICATION_PORTS) {
        let runStart: number | undefined;
        let runRule = '';
        const close = (end: number) => {
          if (runStart === undefined) return;
          blocked.push({
            from: from.instance,
            to: to.instance,
            blockedBy: side.nsg?.name ?? side.instance,
            direction,
            ports: runStart === end ? String(runStart) : `${runStart}-${end}`,
            rule: runRule,
          });
          runStart = undefined;
        };
        for (let port = ports.from; port <= ports.to; port++) {
          const verdict = evaluateFlow(side.nsg, {
            direction,
            sourcePrefixes: from.subnet.addressPrefixes,
            destinationPrefixes: to.subnet.addressPrefixes,
            port,
          });
          if (verdict.allowed) {
            if (verdict.viaServiceTag) reliesOnPeering = true;
            close(port - 1);
          } else if (runStart === undefined || verdict.rule !== runRule) {
            close(port - 1);
            runStart = port;
            runRule = verdict.rule;
          }
        }
        close(ports.to);
      }
    }
  }
  return {
    overlapping: prefixesOverlap(a.subnet.addressPrefixes, b.subnet.addressPrefixes),
    blocked,
    reliesOnPeering,
  };
}
