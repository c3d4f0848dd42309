/**
 * The steps that change an instance on its host, each with its undo, for launch, the lifecycle
 * operations, destroy and a move between hosts to share. Undo order is what makes them fit: a
 * lifecycle change runs stop → writable layer → define → start, and its undo runs start (the domain
 * forced off) → define (undefined) → writable layer (the new one removed, which no domain uses any
 * more) → stop (the previous stack defined again and started if it ran).
 *
 * @example
 * const steps = hostSteps(hosts, requests);
 * await op.run(steps.define, { hostId, instanceId }, requests.build(identity, stack));
 */
import type { CreateInstanceLayerRequest, DefineDomainRequest } from '../../../stormd/protocol.js';
import { hostCode } from '../hosts/host-client.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Step } from '../operations/step.js';
import type { DomainRequests, InstanceIdentity, StackShape } from './domain-request.js';

export interface OnHost {
  readonly hostId: string;
  readonly instanceId: string;
}

export interface StopIntent {
  readonly hostId: string;
  readonly instance: InstanceIdentity;
  readonly wasRunning: boolean;
  /** The stack it stands on now: what the undo defines again. */
  readonly previous: StackShape;
  readonly timeoutMs?: number;
}

export interface WritableLayerIntent extends OnHost {
  /** The current writable layer before the step: any other current one after it is the new one. */
  readonly previousCurrent: string | null;
  readonly copyPaths?: readonly string[];
  /** A traditional instance: the layer the new overlay goes on (a checkpoint: the current one; a rollback: the checkpoint's top). */
  readonly on?: string;
}

export interface HostSteps {
  /** The instance's folder and first writable layer, seeded with its files; undo: the instance goes from the host. */
  readonly instanceLayer: Step<OnHost & { readonly name: string }, void, undefined, CreateInstanceLayerRequest>;
  /** The domain defined; undo: forced off and undefined. */
  readonly define: Step<OnHost, void, undefined, DefineDomainRequest>;
  /** Started; undo: forced off. */
  readonly start: Step<OnHost>;
  /** Stopped (if it ran) so its stack can change; undo: its previous stack defined again, started if it ran. */
  readonly stopForChange: Step<StopIntent>;
  /** A new empty current writable layer (holding `copyPaths`); undo: removed. */
  readonly writableLayer: Step<WritableLayerIntent, string, { layer: string }>;
  /** Destroyed, undefined and its folder deleted; no undo (destroy goes forward only). */
  readonly removeInstance: Step<OnHost>;
}

/** Host answers that mean "already gone": an undo that finds nothing to undo. */
const GONE = new Set(['STORMD_ERR_DOMAIN_NOT_FOUND', 'STORMD_ERR_INSTANCE_NOT_FOUND']);

async function unlessGone(p: Promise<unknown>): Promise<void> {
  try {
    await p;
  } catch (err) {
    if (!GONE.has(hostCode(err) ?? '')) throw err;
  }
}

export function hostSteps(hosts: HostRegistry, requests: DomainRequests, stopTimeoutMs = 30_000): HostSteps {
  const client = (hostId: string) => hosts.client(hostId);
  const forceOff = async ({ hostId, instanceId }: OnHost) => unlessGone((await client(hostId)).action(instanceId, { action: 'destroy' }));
  return {
    instanceLayer: {
      name: 'host.instance-layer',
      run: async ({ hostId, instanceId }, req) => void (await (await client(hostId)).createInstanceLayer(instanceId, req)),
      undo: async ({ hostId, instanceId }) => (await client(hostId)).removeInstance(instanceId),
    },
    define: {
      name: 'host.define',
      run: async ({ hostId, instanceId }, req) => void (await (await client(hostId)).defineDomain(instanceId, req)),
      undo: async (on) => {
        await forceOff(on);
        await unlessGone((await client(on.hostId)).undefineDomain(on.instanceId));
      },
    },
    start: {
      name: 'host.start',
      run: async ({ hostId, instanceId }) => void (await (await client(hostId)).action(instanceId, { action: 'start' })),
      undo: forceOff,
    },
    stopForChange: {
      name: 'host.stop-for-change',
      run: async ({ hostId, instance, wasRunning, timeoutMs }) => {
        if (wasRunning) await (await client(hostId)).action(instance.id, { action: 'stop', timeoutMs: timeoutMs ?? stopTimeoutMs });
      },
      undo: async ({ hostId, instance, wasRunning, previous }) => {
        const c = await client(hostId);
        await forceOff({ hostId, instanceId: instance.id });
        await c.defineDomain(instance.id, requests.build(instance, previous));
        if (wasRunning) await c.action(instance.id, { action: 'start' });
      },
    },
    writableLayer: {
      name: 'host.writable-layer',
      run: async ({ hostId, instanceId, copyPaths, on }) => {
        const after = await (await client(hostId)).newWritableLayer(instanceId, {
          ...(copyPaths ? { copyPaths } : {}),
          ...(on ? { on } : {}),
        });
        const current = after.layers.find((l) => l.current);
        if (!current) throw new Error(`the host made no current writable layer for ${instanceId}`);
        return current.id;
      },
      keep: (layer) => ({ layer }),
      undo: async ({ hostId, instanceId, previousCurrent }, kept) => {
        const c = await client(hostId);
        let layer = kept?.layer;
        if (!layer) {
          // Cut short: the new layer, if the host made it, is a current one other than the previous.
          const current = (await c.writableLayers(instanceId)).layers.find((l) => l.current);
          if (current && previousCurrent && current.id !== previousCurrent) layer = current.id;
        }
        if (layer) await unlessGone(c.removeWritableLayer(instanceId, layer));
      },
    },
    removeInstance: {
      name: 'host.remove-instance',
      run: async ({ hostId, instanceId }) => (await client(hostId)).removeInstance(instanceId),
    },
  };
}
