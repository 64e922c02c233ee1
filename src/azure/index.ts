import type { FogpilotConfig } from '../config/config';
import { ArmControlPlane } from './arm-control-plane';
import { ArmServerGroupPlane } from './arm-server-group-plane';
import { createCredential } from './credentials';

/** The ARM control plane from configuration: the one place the ARM credential and clients are built. */
export function createControlPlane(config: FogpilotConfig): ArmControlPlane {
  return new ArmControlPlane({
    credential: createCredential(config.azure.credential),
    endpoint: config.armEndpoint,
    requestTimeoutMs: config.azure.requestTimeout,
    rateLimits: config.azure.rateLimits,
    ca: config.ca,
  });
}

/**
 * Azure SQL Database server failover groups from configuration (`azure.sqlDatabaseApiVersion`), over the control
 * plane's clients: its credential, request budget and meter.
 */
export function createServerGroupPlane(config: FogpilotConfig, controlPlane: ArmControlPlane): ArmServerGroupPlane {
  return new ArmServerGroupPlane(controlPlane, {
    endpoint: config.armEndpoint,
    apiVersion: config.azure.sqlDatabaseApiVersion,
  });
}

export { ArmServerGroupPlane, type ArmServerGroupPlaneOptions } from './arm-server-group-plane';
export { DEFAULT_SQL_DATABASE_API_VERSION, serverGroupApiOf } from './server-group-api';
export type { ServerFailoverAction, ServerGroupApi, ServerGroupPlane } from './server-group-plane';
