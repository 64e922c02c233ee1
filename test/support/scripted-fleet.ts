/**
 * Several scripted groups behind one control plane and data plane, as one subscription holds many groups: each call
 * goes to the group it names (by group, instance id or host).
 */
import type { ControlPlane } from '../../src/azure/control-plane';
import type { DataPlane } from '../../src/sql/data-plane';
import { ScriptedAzure } from './scripted-azure';

export class ScriptedFleet {
  readonly members = new Map<string, ScriptedAzure>();

  constructor(clock: () => Promise<number>, names: string[], configure?: (azure: ScriptedAzure, name: string) => void) {
    for (const name of names) {
      const azure = new ScriptedAzure({ clock, groupName: name });
      configure?.(azure, name);
      this.members.set(name, azure);
    }
  }

  /** The member a call is about: its first argument names a group, an instance id, or an instance host. */
  private memberFor(first: unknown): ScriptedAzure {
    for (const azure of this.members.values()) {
      if (typeof first === 'string') {
        if (Object.values(azure.instances).some((instance) => instance.id.toLowerCase() === first.toLowerCase()))
          return azure;
      } else if (first && typeof first === 'object') {
        const arg = first as { name?: string; subscriptionId?: string; host?: string };
        if (arg.subscriptionId && arg.name === azure.coordinates.name) return azure;
        if (arg.host === azure.listenerHost) return azure;
        if (arg.host && Object.values(azure.instances).some((instance) => instance.fqdn === arg.host)) return azure;
      }
    }
    const azure = this.members.values().next().value!;
    return azure; // an unknown group: the first member answers 404 for it, as Azure would
  }

  /** One object that is the control plane and the data plane of every member. */
  planes(): ControlPlane & DataPlane {
    return new Proxy({} as ControlPlane & DataPlane, {
      get: (_target, method) => {
        // Not a promise, and nothing else but the planes' methods.
        if (typeof method !== 'string' || method === 'then') return undefined;
        return (...args: unknown[]) => {
          const member = this.memberFor(args[0]) as unknown as Record<string, (...rest: unknown[]) => unknown>;
          return member[method]!(...args);
        };
      },
    });
  }
}
