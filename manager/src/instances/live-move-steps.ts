/**
 * The steps of a live move that are its own (staging and `move.switch-host` it shares with the cold
 * move): `prepareIncoming` (the target makes the instance's folder and an empty writable layer of
 * the source's id and size, and answers the definition it will take; undo: the instance goes from
 * the target, unless the guest already runs there) and `migrate` (the source's libvirtd moves the
 * running guest, memory and writable layer, to the target's; done, it is the point of no return:
 * the guest runs on the target only). Neither undo ever touches the host the record names.
 *
 * @example
 * const steps = liveMoveSteps(hosts, store);
 * const { domainXml } = await op.run(steps.prepareIncoming, intent, defineRequest);
 * await op.run(steps.migrate, intent, domainXml);
 */
import type { DefineDomainRequest, IncomingInstanceResponse, InstanceStatus, MigrateInstanceResponse } from '../../../stormd/protocol.js';
import { hostCode } from '../hosts/host-client.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Step } from '../operations/step.js';
import type { InstanceStore } from './instance-store.js';
import type { MoveIntent } from './move-steps.js';

/** A live move's intent: the hosts, and where the source's libvirtd reaches the target's (the target's `--migration-uri`). */
export interface LiveMoveIntent extends MoveIntent {
  readonly targetUri: string;
  readonly memoryUri?: string;
  readonly disksUri?: string;
}

export interface LiveMoveSteps {
  /** The target readied for the guest; its result is the target's definition, for `migrate`. */
  readonly prepareIncoming: Step<LiveMoveIntent, IncomingInstanceResponse, undefined, DefineDomainRequest>;
  /** The guest moved, running, to the target (the source's folder removed by its stormd); input: the target's definition. */
  readonly migrate: Step<LiveMoveIntent, MigrateInstanceResponse, undefined, string>;
}

/** Domain states in which a guest is on a host (running, or paused as an incoming or outgoing migration leaves it). */
const PRESENT = new Set(['running', 'paused', 'suspended', 'shutting-down']);

/** The instance's domain state on a host; `absent` too when the host holds nothing of it (404: no folder, no domain, as a source is once the migration ended). */
export async function stateOn(hosts: HostRegistry, hostId: string, instanceId: string): Promise<InstanceStatus['state']> {
  try {
    return (await (await hosts.client(hostId)).instance(instanceId)).state;
  } catch (err) {
    if (hostCode(err) === 'STORMD_ERR_INSTANCE_NOT_FOUND') return 'absent';
    throw err;
  }
}

export function liveMoveSteps(hosts: HostRegistry, store: InstanceStore): LiveMoveSteps {
  /** Refuses to remove the instance from the target when the record names it, or when the guest already runs there (a migration got through). */
  const mayRemoveFromTarget = async (instanceId: string, to: string) => {
    const row = await store.get(instanceId);
    if (row?.host_id === to) throw new Error(`refusing to remove ${instanceId} from ${to}: the record says the instance lives there`);
    const state = await stateOn(hosts, to, instanceId);
    if (PRESENT.has(state))
      throw new Error(
        `refusing to remove ${instanceId} from ${to}: its domain is ${state} there (a live migration reached it or is under way)`,
      );
  };
  return {
    prepareIncoming: {
      name: 'move.prepare-incoming',
      run: async ({ instanceId, from, to }, domain) => {
        const { layers } = await (await hosts.client(from)).writableLayers(instanceId);
        const current = layers.find((l) => l.current);
        if (!current) throw new Error(`${instanceId} has no current writable layer on ${from}`);
        return (await hosts.client(to)).prepareIncoming(instanceId, {
          domain,
          writable: { id: current.id, virtualBytes: current.virtualBytes },
        });
      },
      undo: async ({ instanceId, to }) => {
        await mayRemoveFromTarget(instanceId, to);
        await (await hosts.client(to)).removeInstance(instanceId);
      },
    },
    migrate: {
      name: 'move.migrate',
      run: async ({ instanceId, from, targetUri, memoryUri, disksUri }, domainXml) =>
        (await hosts.client(from)).migrateInstance(instanceId, {
          targetUri,
          domainXml,
          ...(memoryUri ? { migrateUri: memoryUri } : {}),
          ...(disksUri ? { disksUri } : {}),
        }),
      // A migration that failed leaves the guest on the source, untouched; one cut short by a crash may have got through: then undo stops here.
      undo: async ({ instanceId, to }) => {
        const row = await store.get(instanceId);
        if (row?.host_id === to) return;
        const state = await stateOn(hosts, to, instanceId);
        if (PRESENT.has(state))
          throw new Error(`the guest ${instanceId} is ${state} on ${to}: the live migration got through; not undoing it`);
      },
    },
  };
}
