/**
 * The admin API under `/_admin`, for tests, the demo and benchmarks (not part of ARM): the world (read, replace), faults
 * (arm, list, remove), the invariants, request stats, and drift injected into an instance.
 */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { normalizeLocation } from '../../domain/locations';
import { FaultSpecSchema, isHttpFault, type FaultSpec, type HttpFaults } from '../faults';
import type { InstanceState, World } from '../world';
import { addWorldFault, removeWorldFaults, restoreRegion } from '../world/faults';
import { armBackupJobFailure } from '../world/workload';
import { InstanceSpecSchema, LoginSpecSchema } from '../world-spec';
import type { ArmStats, Params } from './context';

/** What the admin routes read and change besides the world. */
export interface AdminDeps {
  world: World;
  /** The HTTP faults the request pipeline applies. */
  faults: HttpFaults;
  /** What `GET /_admin/stats` answers. */
  stats: ArmStats;
  /** How long a dark region holds a request before dropping it, per region (the request pipeline reads it). */
  darkHangMs: Map<string, number>;
}

/** Registers the admin routes; returns the fault-arming function they use (`ArmServer.addFault`). */
export function registerAdminRoutes(
  app: FastifyInstance,
  { world, faults, stats, darkHangMs }: AdminDeps,
): (spec: unknown) => { id?: string; kind: string } {
  const addFault = (raw: unknown): { id?: string; kind: string } => {
    const spec: FaultSpec = FaultSpecSchema.parse(raw);
    if (isHttpFault(spec)) return { id: faults.add(spec).id, kind: spec.kind };
    if (spec.kind === 'backup-job-fails') {
      armBackupJobFailure(world, spec.vm, { code: spec.code, message: spec.message });
      return { kind: spec.kind };
    }
    if (spec.kind === 'region-dark') darkHangMs.set(normalizeLocation(spec.location), spec.hangMs);
    addWorldFault(world, spec);
    return { kind: spec.kind };
  };

  app.get('/_admin/world', (_request, reply) =>
    reply.send({
      now: new Date(world.now()).toISOString(),
      speed: world.clock.speed,
      spec: world.spec,
      groups: [...world.groups.values()].map((group) => ({
        name: group.name,
        primary: world.instanceById(group.primaryInstanceId)!.name,
        primaryLocation: world.instanceById(group.primaryInstanceId)!.location,
        replicationState: world.reportedReplicationState(group),
        failover: group.failover ?? null,
      })),
      sqlFailoverGroups: [...world.sqlFailoverGroups.values()].map((group) => ({
        name: group.name,
        primary: world.sqlServerById(group.primaryServerId)?.name ?? group.primaryServerId,
        primaryLocation: world.sqlServerById(group.primaryServerId)?.location,
        partners: group.serverIds
          .filter((id) => id !== group.primaryServerId)
          .map((id) => world.sqlServerById(id)?.name ?? id),
        databases: group.databases,
        failover: group.failover ?? null,
      })),
    }),
  );
  app.put('/_admin/world', (request, reply) => {
    try {
      world.load(request.body);
      faults.remove();
      darkHangMs.clear();
      return reply.send({ loaded: true });
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
  app.get('/_admin/faults', (_request, reply) =>
    reply.send({
      http: faults.list(),
      world: {
        failoverNeverCompletes: [...world.faults.failoverNeverCompletes],
        failoverFails: Object.fromEntries(world.faults.failoverFails),
        operationFails: Object.fromEntries(world.faults.operationFails),
        darkRegions: [...world.faults.darkRegions],
        splitBrain: [...world.faults.splitBrain.keys()],
        backupJobFails: Object.fromEntries(world.workload.faults.backupJobFails),
      },
    }),
  );
  app.post('/_admin/faults', (request, reply) => {
    try {
      return reply.code(201).send(addFault(request.body));
    } catch (error) {
      return reply.code(400).send({ error: (error as Error).message });
    }
  });
  app.delete('/_admin/faults', (_request, reply) => {
    faults.remove();
    removeWorldFaults(world);
    world.workload.faults.backupJobFails.clear();
    darkHangMs.clear();
    return reply.send({ cleared: true });
  });
  app.delete('/_admin/faults/:id', (request, reply) => {
    const { id } = request.params as Params;
    faults.remove(id);
    if (restoreRegion(world, id!)) darkHangMs.delete(normalizeLocation(id!));
    return reply.send({ removed: id });
  });
  app.get('/_admin/invariants', (_request, reply) => reply.send(world.invariants()));
  app.get('/_admin/stats', (_request, reply) => reply.send(stats));
  app.patch('/_admin/instances/:name', (request, reply) => {
    const { name } = request.params as Params;
    const matches = [...world.instances.values()].filter(
      (instance) => instance.name.toLowerCase() === name!.toLowerCase(),
    );
    if (matches.length === 0) return reply.code(404).send({ error: `no instance named ${name} in the world` });
    if (matches.length > 1) {
      return reply.code(400).send({
        error: `${matches.length} instances are named ${name}: ${matches.map((match) => match.id).join(', ')}`,
      });
    }
    const parsed = InstancePatchSchema.safeParse(request.body ?? {});
    if (!parsed.success) {
      const problems = parsed.error.issues.map(
        (issue) => `${issue.path.map(String).join('.') || '(body)'}: ${issue.message}`,
      );
      return reply.code(400).send({ error: `Invalid change to instance ${name}: ${problems.join('; ')}` });
    }
    const instance = matches[0]!;
    const changed = applyInstancePatch(instance, parsed.data);
    world.note('instance-patched', { instance: instance.name, detail: { changed } });
    return reply.send({ instance: instance.name, changed });
  });

  return addFault;
}

/**
 * What `PATCH /_admin/instances/:name` may change at once, for tests that inject drift between the two instances of a
 * pair: the fields a readiness check compares. `longTermRetention: null` removes the policy.
 */
const InstancePatchSchema = z
  .strictObject({
    logins: z.array(LoginSpecSchema).optional(),
    agentJobs: z.array(z.string().min(1)).optional(),
    vCores: z.number().int().positive().optional(),
    storageSizeInGB: z.number().int().positive().optional(),
    licenseType: z.string().min(1).optional(),
    backupStorageRedundancy: z.string().min(1).optional(),
    longTermRetention: InstanceSpecSchema.shape.longTermRetention.unwrap().nullable().optional(),
  })
  .refine((patch) => Object.values(patch).some((value) => value !== undefined), {
    error:
      'name at least one of logins, agentJobs, vCores, storageSizeInGB, licenseType, backupStorageRedundancy, longTermRetention',
  });

type InstancePatch = z.output<typeof InstancePatchSchema>;

/** Applies the change in place: the ARM and TDS servers read these fields on every request, so it shows at once. */
function applyInstancePatch(instance: InstanceState, patch: InstancePatch): string[] {
  const changed: string[] = [];
  if (patch.logins !== undefined) instance.logins = patch.logins;
  if (patch.agentJobs !== undefined) instance.agentJobs = patch.agentJobs;
  if (patch.vCores !== undefined) instance.vCores = patch.vCores;
  if (patch.storageSizeInGB !== undefined) instance.storageSizeInGB = patch.storageSizeInGB;
  if (patch.licenseType !== undefined) instance.licenseType = patch.licenseType;
  if (patch.backupStorageRedundancy !== undefined) instance.backupStorageRedundancy = patch.backupStorageRedundancy;
  if (patch.longTermRetention !== undefined) instance.longTermRetention = patch.longTermRetention ?? undefined;
  for (const [field, value] of Object.entries(patch)) if (value !== undefined) changed.push(field);
  return changed;
}
