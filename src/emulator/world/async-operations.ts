/**
 * ARM's long-running operations as the world keeps them: every accepted failover, scale, group creation and deletion
 * gets one, which the `…AzureAsyncOperation` and `…OperationResults` URLs answer from.
 */
import { randomUUID } from 'node:crypto';
import { normalizeLocation } from '../../domain/locations';
import type { WorldContext } from './context';
import type { AsyncOperation } from './state';

/** Registers a new operation, `InProgress` from now. */
export function startAsyncOperation(
  world: WorldContext,
  kind: AsyncOperation['kind'],
  subscriptionId: string,
  location: string,
  result: AsyncOperation['result'],
): AsyncOperation {
  const operation: AsyncOperation = {
    id: randomUUID(),
    kind,
    subscriptionId,
    location: normalizeLocation(location),
    status: 'InProgress',
    startTime: world.now(),
    result,
  };
  world.asyncOperations.set(operation.id, operation);
  return operation;
}

/** Registers an operation that ARM completes within the request (a group's creation, update or deletion). */
export function completedAsyncOperation(
  world: WorldContext,
  kind: AsyncOperation['kind'],
  subscriptionId: string,
  location: string,
  result: AsyncOperation['result'],
): AsyncOperation {
  const operation = startAsyncOperation(world, kind, subscriptionId, location, result);
  Object.assign(operation, { status: 'Succeeded', endTime: world.now() });
  return operation;
}
