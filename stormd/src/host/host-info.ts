/**
 * `HostInfo` for `GET /v1/host` and the heartbeat: the hypervisor's node figures, free and
 * allocated memory, the layers held and how many instances the host knows.
 *
 * @example
 * const info = await collectHostInfo({ driver, store, instances, host: { hostId: 'h1', name: 'host-1' } });
 * info.freeMemoryMiB; // e.g. 1024 on test:///default
 */
import { STORM_VERSION } from '../../../common/version.js';
import type { HostInfo, HostMigration } from '../../protocol.js';
import type { HypervisorDriver } from '../hypervisor/driver.js';
import type { InstancesService } from '../instances/instances-service.js';
import type { LayerStore } from '../store/layer-store.js';
import { freeMemoryMiB } from './free-memory.js';

export interface HostInfoSources {
  readonly driver: HypervisorDriver;
  readonly store: LayerStore;
  readonly instances: InstancesService;
  /** From host.json; `hostId` is null only before a join (tests that build the app bare). */
  readonly host: { readonly hostId: string | null; readonly name: string };
  /** `--migration-uri` and its companions; absent: this host takes no live moves. */
  readonly migration?: HostMigration | undefined;
}

const ACTIVE = new Set(['running', 'paused', 'shutting-down', 'suspended']);

export async function collectHostInfo(src: HostInfoSources): Promise<HostInfo> {
  const [node, domains, layers, instances, allocatedMemoryMiB] = await Promise.all([
    src.driver.info(),
    src.driver.list(),
    src.store.list(),
    src.instances.list(),
    src.instances.allocatedMemoryMiB(),
  ]);
  const runningDomainsMiB = domains.filter((d) => ACTIVE.has(d.state)).reduce((sum, d) => sum + d.memoryMiB, 0);
  return {
    hostId: src.host.hostId,
    name: src.host.name,
    version: STORM_VERSION,
    cpus: node.cpus,
    memoryMiB: node.memoryMiB,
    freeMemoryMiB: await freeMemoryMiB({ uri: node.uri, nodeMemoryMiB: node.memoryMiB, runningDomainsMiB }),
    allocatedMemoryMiB,
    hypervisor: { uri: node.uri, domainType: node.domainType },
    ...(src.migration ? { migration: src.migration } : {}),
    layers,
    instances: instances.length,
  };
}
