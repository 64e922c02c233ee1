/**
 * `Microsoft.Sql/servers/failoverGroups`: list by server and get (at each server of the group, from its side), PUT
 * (create: long-running; update) and PATCH at the primary, DELETE at the primary, and the actions POSTed at the server
 * to become primary: `failover`, `forceFailoverAllowDataLoss` and, in the api-versions that have it,
 * `tryPlannedBeforeForcedFailover` (202 and the async protocol). What each api-version carries
 * (`readOnlyEndpoint.targetServer`, `secondaryType`, more than one partner) is ./api-versions.ts's.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import type { SqlServerState } from '../world';
import { sqlGroupAt, sqlGroupsAt, type SqlGroupRequest } from '../world/sql-failover-groups';
import { MULTI_PARTNER_FAILOVER_GROUP_VERSIONS, SECONDARY_TYPE_FAILOVER_GROUP_VERSIONS } from './api-versions';
import type { ArmContext, Params } from './context';
import { sqlFailoverGroupBody, type FailoverGroupShape } from './sql-bodies';
import { serverOf, serverPath } from './sql-servers';

const groupPath = `${serverPath}/failoverGroups`;

/** The shape of a FailoverGroup in the request's api-version. */
export function shapeOf(request: FastifyRequest): FailoverGroupShape {
  const version = String((request.query as Record<string, string>)['api-version'] ?? '');
  return {
    targetServer: MULTI_PARTNER_FAILOVER_GROUP_VERSIONS.has(version),
    secondaryType: SECONDARY_TYPE_FAILOVER_GROUP_VERSIONS.has(version),
  };
}

interface FailoverGroupBody {
  tags?: Record<string, string>;
  properties?: {
    readWriteEndpoint?: { failoverPolicy?: string; failoverWithDataLossGracePeriodMinutes?: number };
    readOnlyEndpoint?: { failoverPolicy?: string; targetServer?: string };
    partnerServers?: { id?: string }[];
    databases?: string[];
    secondaryType?: string;
  };
}

/** The request a PUT or PATCH body makes, with what its api-version allows. */
function groupRequestOf(request: FastifyRequest, patch: boolean): SqlGroupRequest {
  const body = (request.body ?? {}) as FailoverGroupBody;
  const properties = body.properties ?? {};
  const shape = shapeOf(request);
  return {
    partnerServerIds:
      properties.partnerServers && (!patch || shape.targetServer)
        ? properties.partnerServers.map((partner) => partner.id ?? '')
        : undefined,
    databaseIds: properties.databases,
    readWrite: properties.readWriteEndpoint,
    readOnly: properties.readOnlyEndpoint
      ? {
          failoverPolicy: properties.readOnlyEndpoint.failoverPolicy,
          targetServer: shape.targetServer ? properties.readOnlyEndpoint.targetServer : undefined,
        }
      : undefined,
    secondaryType: shape.secondaryType ? properties.secondaryType : undefined,
    tags: body.tags,
    multiplePartners: shape.targetServer,
    patch,
  };
}

/** Registers list, get, PUT, PATCH, DELETE and the three actions. */
export function registerSqlFailoverGroupRoutes(app: FastifyInstance, context: ArmContext) {
  const { world, send, fail, notFound, asyncHeaders } = context;

  const groupOf = async (request: FastifyRequest, reply: FastifyReply, server: SqlServerState) => {
    const { group: name } = request.params as Params;
    const group = sqlGroupAt(world, server, name!);
    if (!group) await notFound(request, reply, `Microsoft.Sql/servers/${server.name}/failoverGroups/${name}`);
    return group;
  };

  app.get(groupPath, async (request, reply) => {
    const server = await serverOf(context, request, reply, 'servers/failoverGroups');
    if (!server) return reply;
    const value = sqlGroupsAt(world, server).map((group) =>
      sqlFailoverGroupBody(world, group, server, shapeOf(request)),
    );
    return send(request, reply, 200, { value });
  });

  app.get(`${groupPath}/:group`, async (request, reply) => {
    const server = await serverOf(context, request, reply, 'servers/failoverGroups');
    const group = server && (await groupOf(request, reply, server));
    if (!server || !group) return reply;
    return send(request, reply, 200, sqlFailoverGroupBody(world, group, server, shapeOf(request)));
  });

  // FailoverGroups_CreateOrUpdate (200/201/202, long-running): a creation answers 201 with the operation to poll,
  // which ends when every member is seeded to every partner; an update answers 200.
  for (const method of ['put', 'patch'] as const) {
    app[method](`${groupPath}/:group`, async (request, reply) => {
      const server = await serverOf(context, request, reply, 'servers/failoverGroups');
      if (!server) return reply;
      const { group: name } = request.params as Params;
      try {
        const { group, created, asyncOperation } = world.putSqlGroup(
          server,
          name!,
          groupRequestOf(request, method === 'patch'),
        );
        const body = sqlFailoverGroupBody(world, group, server, shapeOf(request));
        if (created && asyncOperation)
          return send(request, reply, 201, body, asyncHeaders(request, asyncOperation, 'failoverGroup'));
        return send(request, reply, 200, body);
      } catch (error) {
        return fail(request, reply, error);
      }
    });
  }

  // FailoverGroups_Delete (200/202/204): 202 with the operation; 204 for a group that is not there.
  app.delete(`${groupPath}/:group`, async (request, reply) => {
    const server = await serverOf(context, request, reply, 'servers/failoverGroups');
    if (!server) return reply;
    const { group: name } = request.params as Params;
    const group = sqlGroupAt(world, server, name!);
    if (!group) return send(request, reply, 204);
    try {
      const operation = world.deleteSqlGroup(group, server);
      return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'failoverGroup'));
    } catch (error) {
      return fail(request, reply, error);
    }
  });

  for (const [action, kind] of [
    ['failover', 'planned'],
    ['forceFailoverAllowDataLoss', 'forced'],
    ['tryPlannedBeforeForcedFailover', 'tryPlanned'],
  ] as const) {
    app.post(`${groupPath}/:group/${action}`, async (request, reply) => {
      const server = await serverOf(context, request, reply, 'servers/failoverGroups');
      if (!server) return reply;
      const { group: name } = request.params as Params;
      const group = sqlGroupAt(world, server, name!);
      // The spec's code for an action on a server the group is not on.
      if (!group)
        return send(
          request,
          reply,
          400,
          armErrorBody(
            'FailoverGroupDoesNotExist',
            `Failover group '${name}' does not exist on server '${server.name}'.`,
          ),
        );
      try {
        const operation = world.requestSqlFailover(group, server, kind);
        return send(request, reply, 202, undefined, asyncHeaders(request, operation, 'failoverGroup'));
      } catch (error) {
        return fail(request, reply, error);
      }
    });
  }
}
