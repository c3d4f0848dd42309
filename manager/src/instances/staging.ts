/**
 * Staging: each file of a stack the host does not hold yet is fetched by the host from the manager
 * (`<manager>/api/v1/images/<sha256>/blob` over mutual TLS; the host checks size and sha256), at
 * most once per host. A step with no undo: a staged layer is content-addressed and shared.
 *
 * @example
 * await op.run(staging.step, { hostId, files });
 */
import type { HostRegistry } from '../hosts/host-registry.js';
import type { Step } from '../operations/step.js';

export interface StageIntent {
  readonly hostId: string;
  readonly files: readonly { readonly sha256: string; readonly size: number }[];
}

export class Staging {
  readonly step: Step<StageIntent>;

  constructor(
    private readonly hosts: HostRegistry,
    /** The URL hosts fetch layers from. */
    private readonly publicUrl: () => string,
  ) {
    this.step = { name: 'host.stage', run: (intent) => this.stage(intent.hostId, intent.files) };
  }

  async stage(hostId: string, files: StageIntent['files']): Promise<void> {
    const held = await this.hosts.store.layers(hostId);
    const client = await this.hosts.client(hostId);
    for (const f of new Map(files.map((x) => [x.sha256, x])).values()) {
      if (held.has(f.sha256)) continue;
      const r = await client.stageLayer(f.sha256, { url: `${this.publicUrl()}/api/v1/images/${f.sha256}/blob`, size: f.size });
      await this.hosts.store.addLayer(hostId, r.sha256);
    }
  }
}
