/**
 * `Microsoft.Sql/managedInstances/operations` (ManagedInstanceOperations.json): an instance's management operations
 * (scales), newest first, in pages of two so clients must follow `nextLink` as they must against Azure; one operation
 * by name; and POST `…/operations/{id}/cancel` (200 with no body, example CancelManagedInstanceOperation). The bodies
 * have the shape of the examples ListManagedInstanceOperations and GetManagedInstanceOperation, `operationSteps`
 * included. An instance that does not exist is the operations' missing parent (`ParentResourceNotFound`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { armErrorBody } from '../arm-bodies';
import { instanceResourceId, type InstanceState, type ManagementOperation, type World } from '../world';
import { stepsAt } from '../world/operation-course';
import { API, instancePath, type ArmContext, type Params } from './context';
import { parentNotFound } from './resource-groups';

const CHILD_TYPE = 'managedInstances/operations';

/** Registers the list (paged), the get and the cancel of an instance's management operations. */
export function registerManagementOperationRoutes(app: FastifyInstance, context: ArmContext) {
  const { world, baseUrl, send, fail } = context;

  /** The instance the URL names, or undefined after answering `ParentResourceNotFound`. */
  const parentOf = async (request: FastifyRequest, reply: FastifyReply): Promise<InstanceState | undefined> => {
    const { subscription, resourceGroup, instance: name } = request.params as Params;
    const instance = world.instanceByName(subscription!, resourceGroup!, name!);
    if (!instance)
      await parentNotFound(
        context,
        request,
        reply,
        CHILD_TYPE,
        instanceResourceId(subscription!, resourceGroup!, name!),
      );
    return instance;
  };
  /** The operation the URL names, or undefined after answering 404 `OperationIdNotFound`. */
  const operationOf = async (
    request: FastifyRequest,
    reply: FastifyReply,
    instance: InstanceState,
  ): Promise<ManagementOperation | undefined> => {
    const { operationId } = request.params as Params;
    const operation = world.operations.find(
      (entry) => entry.instanceId === instance.id && entry.name.toLowerCase() === operationId!.toLowerCase(),
    );
    if (!operation)
      await send(request, reply, 404, armErrorBody('OperationIdNotFound', 'The operation with Id does not exist.'));
    return operation;
  };

  app.get(`${instancePath}/operations`, async (request, reply) => {
    const instance = await parentOf(request, reply);
    if (!instance) return reply;
    const operations = world.operations
      .filter((operation) => operation.instanceId === instance.id)
      .sort((a, b) => b.startedAt - a.startedAt)
      .map((operation) => operationBody(world, operation, apiVersionOf(request)));
    const skip = Number((request.query as Record<string, string>).$skiptoken ?? 0);
    const page = operations.slice(skip, skip + 2);
    const nextLink =
      skip + 2 < operations.length
        ? `${baseUrl(request)}${instance.id}/operations?api-version=${API.operations}&$skiptoken=${skip + 2}`
        : undefined;
    return send(request, reply, 200, nextLink ? { value: page, nextLink } : { value: page });
  });

  app.get(`${instancePath}/operations/:operationId`, async (request, reply) => {
    const instance = await parentOf(request, reply);
    const operation = instance && (await operationOf(request, reply, instance));
    if (!operation) return reply;
    return send(request, reply, 200, operationBody(world, operation, apiVersionOf(request)));
  });

  app.post(`${instancePath}/operations/:operationId/cancel`, async (request, reply) => {
    const instance = await parentOf(request, reply);
    const operation = instance && (await operationOf(request, reply, instance));
    if (!operation) return reply;
    try {
      world.cancelOperation(operation);
      return send(request, reply, 200);
    } catch (error) {
      return fail(request, reply, error);
    }
  });
}

/** The api-version a request carries (the request pipeline has refused requests without one). */
const apiVersionOf = (request: FastifyRequest): string =>
  String((request.query as Record<string, string>)['api-version'] ?? API.operations);

/**
 * Whether steps carry their times: the 2020-11-01-preview definition (UpsertManagedServerOperationStep, which
 * @azure/arm-sql 10 reads) has only order, name and status; later versions' steps
 * (UpsertManagedServerOperationStepWithEstimatesAndDuration) add stepStartTime, stepEndTime and timeElapsed.
 */
const stepsWithTimes = (apiVersion: string): boolean => apiVersion > '2020-11-01-preview';

/** A management operation as `managedInstances/operations` answers it at the world's `now`, in `apiVersion`'s shape. */
export function operationBody(
  world: World,
  operation: ManagementOperation,
  apiVersion: string = API.operations,
): Record<string, unknown> {
  const instance = world.instanceById(operation.instanceId)!;
  const now = world.now();
  const running = operation.state === 'Pending' || operation.state === 'InProgress';
  const span = Math.max(1, operation.endsAt - operation.startedAt);
  const stoppedAt = operation.cancelRequestedAt ?? now;
  const percentComplete = running
    ? Math.min(99, Math.floor(((now - operation.startedAt) / span) * 100))
    : operation.state === 'CancelInProgress'
      ? Math.min(99, Math.floor(((stoppedAt - operation.startedAt) / span) * 100))
      : 100;
  const { currentStep, steps } = stepsAt(operation, now);
  const properties: Record<string, unknown> = {
    managedInstanceName: instance.name,
    operation: operation.operation,
    operationFriendlyName: operation.friendlyName,
    percentComplete,
    startTime: new Date(operation.startedAt).toISOString(),
    state: operation.state,
    estimatedCompletionTime: new Date(operation.endsAt).toISOString(),
    description: `Scaling ${instance.name} to ${operation.requested.vCores} vCores and ${operation.requested.storageSizeInGB} GB`,
    isCancellable: running && operation.cancellable,
    operationParameters: { currentParameters: operation.current, requestedParameters: operation.requested },
    operationSteps: {
      totalSteps: String(steps.length),
      currentStep,
      stepsList: stepsWithTimes(apiVersion) ? steps : steps.map(({ order, name, status }) => ({ order, name, status })),
    },
  };
  if (operation.error) {
    Object.assign(properties, {
      errorCode: 45157,
      errorDescription: operation.error.message,
      errorSeverity: 16,
      isUserError: false,
    });
  }
  return { id: operation.id, name: operation.name, type: 'Microsoft.Sql/managedInstances/operations', properties };
}
