import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { NetworkSecurityGroupView, SecurityRuleView } from '../../src/domain/azure-state';
import {
  checkGeoReplicationNetwork,
  evaluateFlow,
  parseIpv4Prefix,
  prefixesOverlap,
  type SubnetSide,
} from '../../src/domain/network-rules';

const EAST = '10.1.0.0/24';
const WEST = '10.2.0.0/24';

function rule(partial: Partial<SecurityRuleView> & Pick<SecurityRuleView, 'name' | 'priority'>): SecurityRuleView {
  return {
    direction: 'Inbound',
    access: 'Allow',
    protocol: 'Tcp',
    sourceAddressPrefixes: ['*'],
    destinationAddressPrefixes: ['*'],
    destinationPortRanges: ['*'],
    ...partial,
  };
}

/** Azure's default rules: the virtual network allowed, everything else denied. */
const DEFAULTS: SecurityRuleView[] = (['Inbound', 'Outbound'] as const).flatMap((direction) => [
  rule({
    name: `AllowVnet-${direction}`,
    priority: 65000,
    direction,
    protocol: '*',
    sourceAddressPrefixes: ['VirtualNetwork'],
    destinationAddressPrefixes: ['VirtualNetwork'],
  }),
  rule({ name: `DenyAll-${direction}`, priority: 65500, direction, access: 'Deny', protocol: '*' }),
]);

function nsg(name: string, rules: SecurityRuleView[], defaults = DEFAULTS): NetworkSecurityGroupView {
  return { id: `/nsg/${name}`, name, securityRules: rules, defaultSecurityRules: defaults };
}

/** Explicit rules opening geo-replication both ways between the two subnets. */
function openRules(): SecurityRuleView[] {
  return (['Inbound', 'Outbound'] as const).map((direction, index) =>
    rule({
      name: `geo-${direction}`,
      priority: 200 + index,
      direction,
      sourceAddressPrefixes: [EAST, WEST],
      destinationAddressPrefixes: [EAST, WEST],
      destinationPortRanges: ['5022', '11000-11999'],
    }),
  );
}

function side(instance: string, prefix: string, group?: NetworkSecurityGroupView): SubnetSide {
  return { instance, subnet: { id: `/subnets/${instance}`, name: 'mi', addressPrefixes: [prefix] }, nsg: group };
}

describe('IPv4 prefixes', () => {
  it('parses addresses and CIDRs, and refuses what is not one', () => {
    assert.deepEqual(parseIpv4Prefix('10.1.0.0/24'), { first: 167837696, last: 167837951 });
    assert.deepEqual(parseIpv4Prefix('10.1.0.7'), { first: 167837703, last: 167837703 });
    assert.equal(parseIpv4Prefix('10.1.0.0/33'), undefined);
    assert.equal(parseIpv4Prefix('300.1.0.0/24'), undefined);
    assert.equal(parseIpv4Prefix('VirtualNetwork'), undefined);
  });

  it('finds overlapping ranges and only those', () => {
    assert.equal(prefixesOverlap(['10.1.0.0/16'], ['10.1.4.0/24']), true);
    assert.equal(prefixesOverlap([EAST], [WEST]), false);
  });
});

describe('a network security group judging one flow', () => {
  const flow = { direction: 'Inbound' as const, sourcePrefixes: [EAST], destinationPrefixes: [WEST], port: 5022 };

  it('lets the first matching rule by priority decide, whatever the order the rules come in', () => {
    const deny = rule({ name: 'deny-5022', priority: 100, access: 'Deny', destinationPortRanges: ['5022'] });
    const allow = rule({ name: 'allow-all', priority: 300 });
    assert.deepEqual(evaluateFlow(nsg('n', [allow, deny]), flow), {
      allowed: false,
      rule: 'deny-5022',
      viaServiceTag: false,
    });
    assert.equal(evaluateFlow(nsg('n', [{ ...deny, priority: 400 }, allow]), flow).allowed, true);
  });

  it('counts an Allow only when it covers the whole subnet, and a Deny when it covers any of it', () => {
    const partialAllow = rule({ name: 'half', priority: 100, sourceAddressPrefixes: ['10.1.0.0/25'] });
    assert.equal(evaluateFlow(nsg('n', [partialAllow], []), flow).allowed, false, 'half a subnet is not allowed');
    const partialDeny = rule({
      name: 'half-deny',
      priority: 100,
      access: 'Deny',
      sourceAddressPrefixes: ['10.1.0.128/25'],
    });
    assert.equal(evaluateFlow(nsg('n', [partialDeny, rule({ name: 'all', priority: 200 })]), flow).allowed, false);
  });

  it('ignores rules for other protocols and ports', () => {
    const udp = rule({ name: 'udp', priority: 100, access: 'Deny', protocol: 'Udp' });
    const otherPort = rule({ name: 'other', priority: 101, access: 'Deny', destinationPortRanges: ['1433'] });
    assert.equal(evaluateFlow(nsg('n', [udp, otherPort, rule({ name: 'ok', priority: 200 })]), flow).rule, 'ok');
  });

  it('says when an Allow rests on the VirtualNetwork tag, and allows everything without an NSG', () => {
    assert.deepEqual(evaluateFlow(nsg('n', []), flow), {
      allowed: true,
      rule: 'AllowVnet-Inbound',
      viaServiceTag: true,
    });
    assert.deepEqual(evaluateFlow(undefined, flow), { allowed: true, rule: '(no NSG)', viaServiceTag: false });
  });
});

describe('geo-replication between two subnets', () => {
  it('passes explicit rules for 5022 and 11000-11999 both ways, without leaning on peering', () => {
    const verdict = checkGeoReplicationNetwork(
      side('east', EAST, nsg('nsg-east', openRules())),
      side('west', WEST, nsg('nsg-west', openRules())),
    );
    assert.deepEqual(verdict, { overlapping: false, blocked: [], reliesOnPeering: false });
  });

  it('names the NSG, direction, ports and rule of a planted block of the redirect range', () => {
    const blocker = rule({
      name: 'deny-redirect',
      priority: 100,
      direction: 'Outbound',
      access: 'Deny',
      destinationPortRanges: ['11000-11499'],
    });
    const verdict = checkGeoReplicationNetwork(
      side('east', EAST, nsg('nsg-east', [blocker, ...openRules()])),
      side('west', WEST, nsg('nsg-west', openRules())),
    );
    assert.deepEqual(verdict.blocked, [
      {
        from: 'east',
        to: 'west',
        blockedBy: 'nsg-east',
        direction: 'Outbound',
        ports: '11000-11499',
        rule: 'deny-redirect',
      },
    ]);
  });

  it('reports overlapping subnets and a deny-all NSG without any allow rule', () => {
    const verdict = checkGeoReplicationNetwork(
      side(
        'east',
        '10.1.0.0/16',
        nsg(
          'nsg-east',
          [],
          DEFAULTS.filter((entry) => entry.access === 'Deny'),
        ),
      ),
      side('west', '10.1.4.0/24', nsg('nsg-west', openRules())),
    );
    assert.equal(verdict.overlapping, true);
    assert.ok(verdict.blocked.some((flow) => flow.blockedBy === 'nsg-east' && flow.ports === '5022'));
    assert.ok(verdict.blocked.some((flow) => flow.blockedBy === 'nsg-east' && flow.ports === '11000-11999'));
  });
});
