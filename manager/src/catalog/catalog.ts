/**
 * The appliance catalog: every version from every subscribed channel, with its files and whether
 * each is in the layer cache. Read from the database and the cache only: listing never touches a
 * channel server.
 *
 * @example
 * const appliance = await catalog.resolve('hello-web'); // the newest version
 * appliance.files.every((f) => f.cached);
 */
import { compareVersions, type ApplianceDescriptor } from '../../../channels/src/format/index.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { LayerCache } from '../images/layer-cache.js';
import type { ApplianceFile } from '../channels/channel-store.js';

export interface CatalogFile extends ApplianceFile {
  readonly cached: boolean;
}

export interface CatalogEntry {
  readonly channelId: string;
  readonly name: string;
  readonly version: string;
  readonly title: string;
  readonly description: string;
  readonly upgradesFrom: string | null;
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly descriptor: ApplianceDescriptor;
  readonly files: readonly CatalogFile[];
  /** Sum of the distinct files' sizes. */
  readonly size: number;
  readonly cached: boolean;
}

interface Row {
  channel_id: string;
  name: string;
  version: string;
  descriptor: string;
}

export class Catalog {
  constructor(
    private readonly db: Database,
    private readonly cache: LayerCache,
  ) {}

  async list(filter: { name?: string } = {}): Promise<CatalogEntry[]> {
    const rows = filter.name
      ? await this.db.all<Row>('SELECT channel_id, name, version, descriptor FROM appliances WHERE name = ?', [filter.name])
      : await this.db.all<Row>('SELECT channel_id, name, version, descriptor FROM appliances');
    const files = await this.db.all<ApplianceFile & { channel_id: string; name: string; version: string }>(
      'SELECT channel_id, name, version, position, role, kind, sha256, size, url FROM appliance_files ORDER BY position',
    );
    const byKey = new Map<string, ApplianceFile[]>();
    for (const f of files) {
      const key = `${f.channel_id}\0${f.name}\0${f.version}`;
      const list = byKey.get(key) ?? [];
      list.push({ position: f.position, role: f.role, kind: f.kind, sha256: f.sha256, size: f.size, url: f.url });
      byKey.set(key, list);
    }
    const cachedMemo = new Map<string, boolean>();
    const isCached = async (sha: string) => {
      if (!cachedMemo.has(sha)) cachedMemo.set(sha, await this.cache.has(sha));
      return cachedMemo.get(sha)!;
    };
    const out: CatalogEntry[] = [];
    for (const r of rows) {
      const d = JSON.parse(r.descriptor) as ApplianceDescriptor;
      const entryFiles: CatalogFile[] = [];
      for (const f of byKey.get(`${r.channel_id}\0${r.name}\0${r.version}`) ?? [])
        entryFiles.push({ ...f, cached: await isCached(f.sha256) });
      const distinct = new Map(entryFiles.map((f) => [f.sha256, f.size]));
      out.push({
        channelId: r.channel_id,
        name: r.name,
        version: r.version,
        title: d.title,
        description: d.description,
        upgradesFrom: d.upgradesFrom ?? null,
        memoryMiB: d.memoryMiB,
        vcpus: d.vcpus,
        descriptor: d,
        files: entryFiles,
        size: [...distinct.values()].reduce((a, b) => a + b, 0),
        cached: entryFiles.every((f) => f.cached),
      });
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || compareVersions(b.version, a.version));
  }

  /** One appliance version; the newest when `version` is absent. Ambiguity across channels is an error. */
  async resolve(name: string, version?: string, channelId?: string): Promise<CatalogEntry> {
    let matches = (await this.list({ name })).filter(
      (e) => (!version || e.version === version) && (!channelId || e.channelId === channelId),
    );
    if (matches.length === 0) throw MgrErr.MGR_ERR_NOT_FOUND(`appliance ${name}${version ? ` ${version}` : ''}`);
    if (!version) {
      const newest = matches[0]!.version;
      matches = matches.filter((e) => e.version === newest);
    }
    if (matches.length > 1)
      throw MgrErr.MGR_ERR_CONFLICT(
        `${name} ${matches[0]!.version} is offered by channels ${matches.map((m) => m.channelId).join(', ')}; name the channel`,
      );
    return matches[0]!;
  }
}
