/**
 * The manager's own channel: what `package` makes is published here, signed with the manager's
 * publisher key, served at `/channels/local/` and subscribed to (channel `ch-local`), so any host can
 * launch a packaged appliance like any other. Its documents are read straight from its folder; its
 * layers are already in the manager's cache.
 *
 * @example
 * await local.init();
 * await local.rebuild(); // after a package is recorded
 */
import { access, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join, normalize, resolve, sep } from 'node:path';
import { buildChannel, generatePublisherKey } from '../../../channels/src/index.js';
import type { Parameter } from '../../../channels/src/format/index.js';
import type { DocumentFetcher } from '../channels/fetch-channel.js';
import type { Database } from '../db/database.js';
import { MgrErr } from '../errors.js';
import type { LayerCache } from '../images/layer-cache.js';
import type { InstanceFile } from '../instances/instance-store.js';
import type { GuestSpec } from '../guests/guest-spec.js';

export { LOCAL_CHANNEL_ID, LOCAL_CHANNEL_URL } from '../channels/channel-service.js';
export const LOCAL_CHANNEL_PATH = '/channels/local/';

/** A package as recorded: its stack is the base's image layers plus the new deployment layer on top. */
export interface PackageRow {
  readonly name: string;
  readonly version: string;
  readonly base_channel: string | null;
  readonly base_name: string;
  readonly base_version: string;
  readonly sha256: string;
  readonly size: number;
  readonly instance_id: string | null;
  /** JSON `{ files: InstanceFile[], memoryMiB, vcpus, parameters, guestSpec }`. */
  readonly files: string;
  readonly created_at: string;
}

export interface PackageSpec {
  readonly files: readonly InstanceFile[];
  readonly memoryMiB: number;
  readonly vcpus: number;
  readonly parameters: readonly Parameter[];
  readonly guestSpec: GuestSpec;
  /** A traditional appliance (imported, or packaged from a traditional instance): its one image file. */
  readonly image?: { readonly format: 'qcow2' | 'raw'; readonly firmware: 'bios' | 'uefi' };
}

export class LocalChannel {
  readonly siteDir: string;
  private readonly keyPath: string;

  constructor(private readonly opts: { dir: string; publicUrl: () => string; cache: LayerCache; db: Database }) {
    this.siteDir = join(opts.dir, 'site');
    this.keyPath = join(opts.dir, 'publisher.key');
  }

  async init(): Promise<void> {
    await mkdir(this.siteDir, { recursive: true });
    if (
      !(await access(this.keyPath).then(
        () => true,
        () => false,
      ))
    )
      await generatePublisherKey(this.opts.dir);
  }

  publicKey(): Promise<string> {
    return readFile(join(this.opts.dir, 'publisher.pub'), 'utf8');
  }

  get baseUrl(): string {
    return `${this.opts.publicUrl()}${LOCAL_CHANNEL_PATH}`;
  }

  get feedUrl(): string {
    return `${this.baseUrl}channel.xml`;
  }

  /** A file of the site, or undefined when `rel` would leave it. */
  filePath(rel: string): string | undefined {
    const path = resolve(this.siteDir, normalize(decodeURIComponent(rel)).replace(/^([/\\])+/, ''));
    return path.startsWith(this.siteDir + sep) ? path : undefined;
  }

  /** Reads the channel's documents from the folder instead of over HTTP (the manager is their server). */
  readonly fetcher: DocumentFetcher = async (url, maxBytes) => {
    const at = url.indexOf(LOCAL_CHANNEL_PATH);
    const path = at < 0 ? undefined : this.filePath(url.slice(at + LOCAL_CHANNEL_PATH.length).split('?')[0]!);
    if (!path) throw MgrErr.MGR_ERR_FETCH_REFUSED(`${url} is not a document of the local channel`);
    const size = (await stat(path).catch(() => undefined))?.size;
    if (size === undefined) throw MgrErr.MGR_ERR_FETCH_FAILED(`${url}: no such document in the local channel`);
    if (size > maxBytes) throw MgrErr.MGR_ERR_FETCH_TOO_LARGE(`${url}: ${size} bytes, limit ${maxBytes}`);
    return { status: 200, body: await readFile(path), headers: {} };
  };

  /** Rewrites the channel from every recorded package. */
  async rebuild(): Promise<void> {
    const rows = await this.opts.db.all<PackageRow>('SELECT * FROM packages ORDER BY name, version');
    const src = join(this.opts.dir, `.src-${process.pid}`);
    await rm(src, { recursive: true, force: true });
    await mkdir(src, { recursive: true });
    try {
      await writeFile(
        join(src, 'channel.json'),
        JSON.stringify({ title: 'Packaged on this manager', description: 'Appliances packaged from instances by STORM (package action).' }),
      );
      for (const row of rows) {
        const spec = JSON.parse(row.files) as PackageSpec;
        const dir = join(src, `${row.name}-${row.version}`);
        await mkdir(dir);
        await writeFile(join(dir, 'manifest.json'), JSON.stringify(this.manifest(row, spec), null, 2));
      }
      if (rows.length === 0) return;
      await buildChannel({ src, out: this.siteDir, baseUrl: this.baseUrl, keyPath: this.keyPath });
    } finally {
      await rm(src, { recursive: true, force: true });
    }
  }

  private manifest(row: PackageRow, spec: PackageSpec): Record<string, unknown> {
    const path = (sha: string) => this.opts.cache.path(sha);
    const layers: Record<string, unknown>[] = [];
    const files = spec.files;
    // A traditional appliance of one image file: imported (`storm image import`) or a traditional instance's package.
    const imageOf = spec.image;
    const imported = row.base_name === 'import' && row.instance_id === null;
    const image = files.find((f) => f.kind === 'image');
    for (const f of files.filter((x) => x.role === 'layer' && x.kind !== 'image')) {
      if (f.kind === 'os') {
        const kernel = files.find((x) => x.role === 'kernel');
        const initrd = files.find((x) => x.role === 'initrd');
        layers.push({
          kind: 'os',
          file: path(f.sha256),
          ...(kernel ? { kernel: path(kernel.sha256) } : {}),
          ...(initrd ? { initrd: path(initrd.sha256) } : {}),
        });
      } else layers.push({ kind: f.kind, file: path(f.sha256) });
    }
    return {
      name: row.name,
      version: row.version,
      title: `${row.name} ${row.version}`,
      description: imported
        ? 'Imported on this manager (storm image import).'
        : `Packaged on this manager from ${row.base_name} ${row.base_version}${row.instance_id ? ` (instance ${row.instance_id})` : ''}.`,
      released: row.created_at.slice(0, 10),
      memoryMiB: spec.memoryMiB,
      vcpus: spec.vcpus,
      layers,
      ...(image && imageOf ? { image: { file: path(image.sha256), format: imageOf.format, firmware: imageOf.firmware } } : {}),
      parameters: spec.parameters,
      config: spec.guestSpec.config,
      records: spec.guestSpec.records,
    };
  }
}
