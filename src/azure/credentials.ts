import { DefaultAzureCredential } from '@azure/identity';
import type { AccessToken, TokenCredential } from '@azure/core-auth';

/**
 * The credential for the local emulator: a fixed token the emulator accepts. It authenticates nothing and must never be
 * pointed at Azure (Azure refuses it).
 */
export class EmulatorCredential implements TokenCredential {
  getToken(): Promise<AccessToken> {
    return Promise.resolve({ token: 'fogpilot-emulator-token', expiresOnTimestamp: Date.now() + 3_600_000 });
  }
}

/** `default`: DefaultAzureCredential (managed identity, workload identity, Azure CLI, …). `emulator`: see above. */
export function createCredential(mode: 'default' | 'emulator'): TokenCredential {
  return mode === 'emulator' ? new EmulatorCredential() : new DefaultAzureCredential();
}
