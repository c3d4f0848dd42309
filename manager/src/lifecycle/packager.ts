/**
 * `package`: the instance's frozen writable layers, built by its host into one squashfs (identity
 * files left out), fetched into the manager's cache and verified, recorded as a deployment layer on
 * top of the appliance version beneath it, and published in the manager's local channel.
 *
 * @example
 * const packager = makePackager({ db, cache, local, channels, catalog });
 * await packager(row, client, ['w0', 'w1'], 'hello-site', '1.0.0');
 */
import type { Catalog } from '../catalog/catalog.js';
import type { ChannelService } from '../channels/channel-service.js';
import type { Database } from '../db/database.js';
import type { HostClient } from '../hosts/host-client.js';
import type { LayerCache } from '../images/layer-cache.js';
import type { InstanceFile, InstanceRow, InstanceStore } from '../instances/instance-store.js';
import type { GuestSpec } from '../guests/guest-spec.js';
import type { LocalChannel, PackageSpec } from './local-channel.js';
import { IDENTITY_PATHS } from './stacks.js';

export interface PackagerDeps {
  readonly db: Database;
  readonly cache: LayerCache;
  readonly local: LocalChannel;
  readonly channels: ChannelService;
  readonly catalog: Catalog;
  readonly store: InstanceStore;
}

export function makePackager(deps: PackagerDeps) {
  return async (row: InstanceRow, client: HostClient, layers: readonly string[], name: string, version: string): Promise<{ sha256: string; size: number }> => {
    const built = await client.buildPackage(row.id, { layers, exclude: IDENTITY_PATHS });
    const body = await client.packageStream(row.id, built.sha256);
    await deps.cache.ingest({ sha256: built.sha256, size: built.size, label: `package ${name} ${version} from ${row.name}` }, body);
    await client.removePackage(row.id, built.sha256).catch(() => undefined);
    await deps.db.run('INSERT INTO images (sha256, size, kind) VALUES (?, ?, ?) ON CONFLICT(sha256) DO NOTHING', [built.sha256, built.size, 'deployment']);

    const top: InstanceFile = { position: 0, role: 'layer', kind: 'deployment', sha256: built.sha256, size: built.size };
    const files: InstanceFile[] = [...(await deps.store.files(row.id)), top].map((f, position) => ({ ...f, position }));
    const base = await deps.catalog.resolve(row.appliance, row.version, row.channel_id ?? undefined).catch(() => undefined);
    const spec: PackageSpec = { files, memoryMiB: row.memory_mib, vcpus: row.vcpus, parameters: base?.descriptor.parameters ?? [], guestSpec: JSON.parse(row.guest_spec) as GuestSpec };
    await deps.db.run(
      'INSERT INTO packages (name, version, base_channel, base_name, base_version, sha256, size, instance_id, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
      [name, version, row.channel_id, row.appliance, row.version, built.sha256, built.size, row.id, JSON.stringify(spec)],
    );
    await deps.local.rebuild();
    await deps.channels.refreshLocal();
    return built;
  };
}
