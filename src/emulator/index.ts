/**
 * The offline Azure: one world served as ARM over HTTP (and, for SQL, over TDS). `fogpilot emulator` runs it standalone;
 * tests start it in-process.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { SpeedClock, type WorldClock } from './clock';
import { startArmServer, type ArmServer } from './arm-server';
import { World, idLocation } from './world';
import { defaultWorldSpec, type WorldSpecInput } from './world-spec';

export interface EmulatorOptions {
  /** A world description (object), or the path of a JSON/YAML file; default: one group, two regions, two databases. */
  world?: WorldSpecInput | string;
  host?: string;
  /** ARM port; 0 picks a free one. */
  port?: number;
  /** Simulated seconds per real second (60: a 30-second role switch takes half a second). */
  speed?: number;
  clock?: WorldClock;
}

export interface StartLine {
  emulator: 'fogpilot';
  armEndpoint: string;
  admin: string;
  speed: number;
  subscriptionId: string;
  groups: {
    name: string;
    id: string;
    subscriptionId: string;
    resourceGroup: string;
    primaryLocation: string;
    secondaryLocation: string;
    databases: string[];
  }[];
  instances: { name: string; id: string; location: string; fullyQualifiedDomainName: string }[];
  use: Record<string, string>;
}

export interface Emulator {
  world: World;
  arm: ArmServer;
  armEndpoint: string;
  startLine(): StartLine;
  close(): Promise<void>;
}

export function readWorldFile(file: string): WorldSpecInput {
  const text = readFileSync(file, 'utf8');
  return (file.endsWith('.json') ? JSON.parse(text) : parseYaml(text)) as WorldSpecInput;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const spec = typeof options.world === 'string' ? readWorldFile(options.world) : (options.world ?? defaultWorldSpec());
  const clock = options.clock ?? new SpeedClock(options.speed ?? 1);
  const world = new World(clock, spec);
  world.startTicking();
  const arm = await startArmServer({ world, host: options.host, port: options.port });
  const startLine = (): StartLine => ({
    emulator: 'fogpilot',
    armEndpoint: arm.url,
    admin: `${arm.url}/_admin`,
    speed: clock.speed,
    subscriptionId: world.spec.subscriptionId,
    groups: [...world.groups.values()].map((group) => {
      const primary = world.instanceById(group.primaryInstanceId)!;
      const secondary = world.partnerInstance(group, primary.id);
      return {
        name: group.name,
        id: `/subscriptions/${group.subscriptionId}/resourceGroups/${group.resourceGroup}/providers/Microsoft.Sql/locations/${idLocation(primary.displayLocation)}/instanceFailoverGroups/${group.name}`,
        subscriptionId: group.subscriptionId,
        resourceGroup: group.resourceGroup,
        primaryLocation: primary.location,
        secondaryLocation: secondary.location,
        databases: group.databases.map((database) => database.name),
      };
    }),
    instances: [...world.instances.values()].map((instance) => ({
      name: instance.name,
      id: instance.id,
      location: instance.location,
      fullyQualifiedDomainName: instance.fullyQualifiedDomainName,
    })),
    use: { FOGPILOT_ARM_ENDPOINT: arm.url, FOGPILOT_AZURE_CREDENTIAL: 'emulator' },
  });
  return {
    world,
    arm,
    armEndpoint: arm.url,
    startLine,
    async close() {
      world.stopTicking();
      await arm.close();
    },
  };
}
