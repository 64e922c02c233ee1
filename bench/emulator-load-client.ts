/**
 * The load side of `bench/fleet.ts --emulator-load N`, in its own process so that the bench process's CPU time is the
 * emulator's alone: GETs of every group at both locations and of both instances of each pair, as a fleet's runbooks
 * make them, from `concurrency` lanes with no client-side budget, then prints `{ reads, failed, wallMs }` as JSON.
 *
 *   node dist/bench/emulator-load-client.js <armEndpoint> <subscriptionId> <groups> <rounds> <concurrency>
 */
import { ArmControlPlane } from '../src/azure/arm-control-plane';
import { EmulatorCredential } from '../src/azure/credentials';

async function main(): Promise<void> {
  const [endpoint, subscriptionId, groupsText, roundsText, concurrencyText] = process.argv.slice(2);
  const groups = Number(groupsText);
  const rounds = Number(roundsText);
  const concurrency = Number(concurrencyText);
  const plane = new ArmControlPlane({
    credential: new EmulatorCredential(),
    endpoint: endpoint!,
    rateLimits: { readsPerSecond: 1e6, readBurst: 1e6, writesPerSecond: 1, writeBurst: 1 },
    // Every read a GET: the emulator's worst case.
    coalescing: false,
  });
  const instanceId = (name: string) =>
    `/subscriptions/${subscriptionId}/resourceGroups/rg-fleet/providers/Microsoft.Sql/managedInstances/${name}`;
  const work: (() => Promise<unknown>)[] = [];
  for (let round = 0; round < rounds; round++) {
    for (let index = 1; index <= groups; index++) {
      const group = { subscriptionId: subscriptionId!, resourceGroup: 'rg-fleet', name: `fleet-${index}` };
      work.push(() => plane.getFailoverGroup(group, 'eastus'));
      work.push(() => plane.getFailoverGroup(group, 'westus'));
      work.push(() => plane.getManagedInstance(instanceId(`fleet-${index}-eastus`)));
      work.push(() => plane.getManagedInstance(instanceId(`fleet-${index}-westus`)));
    }
  }
  let next = 0;
  let failed = 0;
  const startedAt = Date.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let index = next++; index < work.length; index = next++) {
        await work[index]!().catch(() => {
          failed += 1;
        });
      }
    }),
  );
  process.stdout.write(`${JSON.stringify({ reads: work.length, failed, wallMs: Date.now() - startedAt })}\n`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
