/**
 * `package`, after the operation's checkpoint, as three journal steps: `build` (the host merges the
 * instance's frozen writable layers into one squashfs, identity files left out, or, for a
 * traditional instance (`image`), flattens its overlay chain into one qcow2 image with its identity
 * scrubbed; undo: the host's copy goes), `ingest` (fetched into the manager's cache and verified, an
 * image as a pulled one is; undo: the cached copy goes, unless it was there before or a record uses
 * it) and `publish` (recorded as a deployment layer on top of the appliance version beneath it, or
 * as a traditional appliance of its own image, the operation's last step). `afterPublish` then rebuilds
 * the manager's local channel from the records, as every start does too.
 *
 * @example
 * const built = await op.run(packager.build, { hostId, instanceId, layers: ['w0', 'w1'] });
 * await op.run(packager.ingest, { hostId, instanceId, ...built, label, existed: await cache.has(built.sha256) });
 * await op.finish(packager.publish, { name, version, instanceId, ...built }, { base, spec });
 * await packager.afterPublish();
 */
import type { ChannelService } from '../channels/channel-service.js';
import type { Database } from '../db/database.js';
import type { HostRegistry } from '../hosts/host-registry.js';
import type { ImageStore } from '../images/image-store.js';
import type { LayerCache } from '../images/layer-cache.js';
import type { OnHost } from '../instances/host-steps.js';
import type { Step, TxStep } from '../operations/step.js';
import type { LocalChannel, PackageSpec } from './local-channel.js';
import { diskImageCheck } from '../images/image-check.js';
import { IDENTITY_PATHS, IMAGE_IDENTITY_PATHS } from './stacks.js';

export interface PackagerDeps {
  readonly db: Database;
  readonly hosts: HostRegistry;
  readonly cache: LayerCache;
  readonly images: ImageStore;
  readonly local: LocalChannel;
  readonly channels: ChannelService;
}

export interface Built {
  readonly sha256: string;
  readonly size: number;
}

/** A traditional instance's package: one qcow2 disk image, not a squashfs layer. */
export interface ImageKind {
  readonly image?: boolean;
}

export interface IngestIntent extends OnHost, Built, ImageKind {
  readonly label: string;
  /** The cache held it before (an identical package): the undo leaves it. */
  readonly existed: boolean;
}

export interface PublishIntent extends Built, ImageKind {
  readonly name: string;
  readonly version: string;
  readonly instanceId: string;
}

export interface PublishInput {
  /** The appliance version the package sits on. */
  readonly base: { readonly channelId: string | null; readonly name: string; readonly version: string };
  readonly spec: PackageSpec;
}

export class Packager {
  readonly build: Step<OnHost & ImageKind & { readonly layers: readonly string[] }, Built, Built>;
  readonly ingest: Step<IngestIntent>;
  readonly publish: TxStep<PublishIntent, void, undefined, PublishInput>;

  constructor(private readonly deps: PackagerDeps) {
    const client = (hostId: string) => deps.hosts.client(hostId);
    this.build = {
      name: 'package.build',
      run: async ({ hostId, instanceId, layers, image }) => {
        const exclude = image ? IMAGE_IDENTITY_PATHS : IDENTITY_PATHS;
        const r = await (await client(hostId)).buildPackage(instanceId, { layers, exclude });
        return { sha256: r.sha256, size: r.size };
      },
      keep: (built) => built,
      // Cut short, the package's name is unknown: the instance has no other package waiting, so all go.
      undo: async ({ hostId, instanceId }, kept) => {
        const c = await client(hostId);
        await (kept ? c.removePackage(instanceId, kept.sha256) : c.removePackages(instanceId));
      },
    };
    this.ingest = {
      name: 'package.ingest',
      run: async ({ hostId, instanceId, sha256, size, label, image }) => {
        const c = await client(hostId);
        // An image is held to what a pulled or imported one is: standalone qcow2, nothing it points at.
        const check = image ? { check: diskImageCheck('qcow2', label) } : {};
        await deps.cache.ingest({ sha256, size, label, ...check }, await c.packageStream(instanceId, sha256));
        await c.removePackage(instanceId, sha256).catch(() => undefined);
      },
      undo: async ({ sha256, existed }) => {
        if (existed || (await deps.images.has(sha256))) return;
        await deps.cache.discard(sha256);
      },
    };
    this.publish = {
      name: 'package.publish',
      runInTx: async (tx, p, { base, spec }) => {
        await deps.images.record(tx, { sha256: p.sha256, size: p.size, kind: p.image ? 'image' : 'deployment' });
        await tx.run(
          'INSERT INTO packages (name, version, base_channel, base_name, base_version, sha256, size, instance_id, files) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
          [p.name, p.version, base.channelId, base.name, base.version, p.sha256, p.size, p.instanceId, JSON.stringify(spec)],
        );
      },
    };
  }

  /** True when a package of that name and version is recorded. */
  async exists(name: string, version: string): Promise<boolean> {
    return (await this.deps.db.get('SELECT 1 FROM packages WHERE name = ? AND version = ?', [name, version])) !== undefined;
  }

  /** The local channel rebuilt from the package records and read again (every start does it too). */
  async afterPublish(): Promise<void> {
    await this.deps.local.rebuild();
    await this.deps.channels.refreshLocal();
  }
}
