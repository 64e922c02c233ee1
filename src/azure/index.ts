import type { FogpilotConfig } from '../config/config';
import { ArmControlPlane } from './arm-control-plane';
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
