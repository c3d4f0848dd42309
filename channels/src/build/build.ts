/**
 * `storm-channel build`: SRC (manifests and layer sources) → a channel directory that any static
 * HTTP server can serve. Output is a pure function of the input: same SRC, key and base URL give
 * byte-identical files.
 *
 * @example
 * const result = await buildChannel({ src: 'appliances/channel-src', out: 'build/channel', baseUrl: 'https://ch.example/', keyPath: 'publisher.key' });
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { ChanErr } from '../errors.js';
import { renderDescriptor } from '../format/descriptor-write.js';
import { itemGuid, renderFeed } from '../format/feed-write.js';
import { compareVersions, parseHttpUrl, parsePublished, parseReleased } from '../format/rules.js';
import type { ApplianceDescriptor, ChannelFeed, DescriptorImage, DescriptorLayer, FeedItem, FileRef } from '../format/types.js';
import { fingerprintOf, loadPrivateKey, signBytes } from './keys.js';
import { loadChannelSource, type ManifestImage, type ManifestLayer, type SourceVersion } from './manifest.js';
import { inspectDiskImage, mibFor } from '../../../common/disk-image-check.js';
import { publicationTime } from './published.js';
import { assertSquashfs, makeSquashfs } from './squashfs.js';
import { type StoredFile, storeByHash, writeFileAtomic } from './store.js';

export const FEED_FILE = 'channel.xml';
export const SIGNATURE_FILE = 'channel.xml.sig';
export const descriptorPath = (name: string, version: string): string => `appliances/${name}/${version}/appliance.xml`;

export interface BuildChannelOptions {
  /** Folder with one sub-folder (holding `manifest.json`) per appliance version, and an optional `channel.json`. */
  readonly src: string;
  readonly out: string;
  /** Where `out` will be served from; every URL in the channel starts with it. */
  readonly baseUrl: string;
  /** The publisher's Ed25519 private key (PEM). */
  readonly keyPath: string;
  /** Progress, one line per step. */
  readonly log?: (line: string) => void;
  readonly mksquashfs?: string;
  /**
   * The feed's publication time (`storm:published`, `YYYY-MM-DDThh:mm:ssZ`). Default: `SOURCE_DATE_EPOCH`
   * when set, else that of the feed already in `out` if this build renders the same feed, else now
   * (and after that earlier feed's). See published.ts.
   */
  readonly published?: string;
  /** The environment `SOURCE_DATE_EPOCH` is read from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

export interface BuildChannelResult {
  readonly feedPath: string;
  readonly signaturePath: string;
  readonly feed: ChannelFeed;
  readonly descriptors: readonly ApplianceDescriptor[];
  /** Layer and boot files, relative to `out`, each once. */
  readonly files: readonly string[];
  readonly fingerprint: string;
}

export async function buildChannel(opts: BuildChannelOptions): Promise<BuildChannelResult> {
  const log = opts.log ?? ((): void => undefined);
  const baseUrl = normalizeBaseUrl(opts.baseUrl);
  if (opts.published !== undefined && !parsePublished(opts.published))
    throw ChanErr.CHAN_ERR_PUBLISHED_INVALID(`${JSON.stringify(opts.published)}: expected YYYY-MM-DDThh:mm:ssZ`);
  const out = resolve(opts.out);
  const key = await loadPrivateKey(opts.keyPath);
  const source = await loadChannelSource(opts.src);
  log(`source ${opts.src}: ${source.versions.map((v) => `${v.manifest.name} ${v.manifest.version}`).join(', ')}`);
  warnMissingUpgrades(source.versions, log);

  await mkdir(out, { recursive: true });
  const tmp = join(out, `.tmp-build-${process.pid}-${randomBytes(4).toString('hex')}`);
  await mkdir(tmp);
  const files = new Files(out, tmp, baseUrl, log, opts.mksquashfs);
  try {
    const built: { descriptor: ApplianceDescriptor; ref: FileRef }[] = [];
    for (const v of sortVersions(source.versions)) {
      const descriptor = await describe(v, files);
      const rel = descriptorPath(descriptor.name, descriptor.version);
      const bytes = renderDescriptor(descriptor);
      await writeFileAtomic(join(out, rel), bytes);
      const ref = { url: baseUrl + rel, size: bytes.byteLength, sha256: sha256Hex(bytes) };
      log(`[${descriptor.name} ${descriptor.version}] descriptor → ${rel} (sha256 ${ref.sha256.slice(0, 12)}…)`);
      built.push({ descriptor, ref });
    }
    const unpublished = channelFeed(source.meta, baseUrl, built);
    const render = (published: string) => renderFeed({ ...unpublished, published }, baseUrl + FEED_FILE);
    const sourceDateEpoch = (opts.env ?? process.env)['SOURCE_DATE_EPOCH'];
    const published = await publicationTime({
      out,
      feedFile: FEED_FILE,
      render,
      ...(opts.published === undefined ? {} : { given: opts.published }),
      ...(sourceDateEpoch === undefined ? {} : { sourceDateEpoch }),
    });
    const feed: ChannelFeed = { ...unpublished, published };
    const feedBytes = render(published);
    const sig = signBytes(key, feedBytes);
    const fingerprint = fingerprintOf(key);
    // Signature first: a reader racing the rename sees a mismatch (and retries), never an unsigned feed.
    await writeFileAtomic(join(out, SIGNATURE_FILE), sig);
    await writeFileAtomic(join(out, FEED_FILE), feedBytes);
    log(`feed → ${FEED_FILE} (${feed.items.length} items, published ${published}), signature → ${SIGNATURE_FILE} (key ${fingerprint})`);
    return {
      feedPath: join(out, FEED_FILE),
      signaturePath: join(out, SIGNATURE_FILE),
      feed,
      descriptors: built.map((b) => b.descriptor),
      files: files.stored(),
      fingerprint,
    };
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

/** Ingests each layer, kernel and initrd once per build, whoever names it. */
class Files {
  private readonly done = new Map<string, Promise<StoredFile>>();
  private readonly results = new Set<StoredFile>();
  private seq = 0;
  constructor(
    private readonly out: string,
    private readonly tmp: string,
    private readonly baseUrl: string,
    private readonly log: (line: string) => void,
    private readonly mksquashfs: string | undefined,
  ) {}

  async layer(v: SourceVersion, l: ManifestLayer, label: string): Promise<FileRef> {
    const path = resolve(v.dir, (l.dir ?? l.file) as string);
    const key = `${l.dir ? 'dir' : 'file'}:${path}`;
    let p = this.done.get(key);
    if (!p) {
      p = l.dir ? this.pack(path) : assertSquashfs(path).then(() => this.copy(path, 'layers', '.squashfs'));
      this.done.set(key, p);
    }
    return this.report(await p, label, l.dir ? `squashfs of ${shown(path)}` : shown(path));
  }

  /** A traditional appliance's disk image, checked as a subscriber will check it, stored as `images/<sha256>.<format>`. */
  async image(v: SourceVersion, i: ManifestImage, label: string): Promise<FileRef & { virtualSize: number }> {
    const path = resolve(v.dir, i.file);
    const checked = await inspectDiskImage(path, i.format).catch((err: unknown) => {
      throw ChanErr.CHAN_ERR_LAYER_SOURCE(`${path}: ${(err as Error).message}`, { cause: err });
    });
    if (!checked.ok) throw ChanErr.CHAN_ERR_LAYER_SOURCE(`${label} ${path}: ${checked.reason}`);
    let p = this.done.get(`image:${path}`);
    if (!p) {
      p = this.copy(path, 'images', `.${i.format}`);
      this.done.set(`image:${path}`, p);
    }
    return { ...this.report(await p, label, shown(path)), virtualSize: checked.virtualSize };
  }

  async boot(v: SourceVersion, file: string, label: string): Promise<FileRef> {
    const path = resolve(v.dir, file);
    let p = this.done.get(`boot:${path}`);
    if (!p) {
      p = this.copy(path, 'boot', '');
      this.done.set(`boot:${path}`, p);
    }
    return this.report(await p, label, shown(path));
  }

  stored(): string[] {
    return [...new Set([...this.results].map((r) => r.rel))].sort();
  }

  private async pack(dir: string): Promise<StoredFile> {
    const image = join(this.tmp, `layer-${++this.seq}.squashfs`);
    await makeSquashfs(dir, image, this.mksquashfs);
    return storeByHash(image, this.out, 'layers', '.squashfs', { move: true });
  }

  private async copy(path: string, folder: string, ext: string): Promise<StoredFile> {
    try {
      return await storeByHash(path, this.out, folder, ext);
    } catch (err) {
      if (ChanErr.CHAN_ERR_IO.is(err) && (err.cause as NodeJS.ErrnoException | undefined)?.code === 'ENOENT')
        throw ChanErr.CHAN_ERR_LAYER_SOURCE(`${path} does not exist`, { cause: err });
      throw err;
    }
  }

  private report(f: StoredFile, label: string, from: string): FileRef {
    if (!this.results.has(f)) {
      this.results.add(f);
      this.log(`${label}: ${from} → ${f.rel} (${f.size} bytes${f.written ? '' : ', already stored'})`);
    } else {
      this.log(`${label}: ${f.rel} (shared)`);
    }
    return { url: this.baseUrl + f.rel, size: f.size, sha256: f.sha256 };
  }
}

async function describe(v: SourceVersion, files: Files): Promise<ApplianceDescriptor> {
  const m = v.manifest;
  const tag = `[${m.name} ${m.version}]`;
  const layers: DescriptorLayer[] = [];
  for (const [i, l] of m.layers.entries()) {
    const label = `${tag} layer ${i + 1}/${m.layers.length} ${l.kind}`;
    const ref = await files.layer(v, l, label);
    const boot =
      l.kernel && l.initrd
        ? { kernel: await files.boot(v, l.kernel, `${tag} kernel`), initrd: await files.boot(v, l.initrd, `${tag} initrd`) }
        : undefined;
    layers.push({ kind: l.kind, format: 'squashfs', ...ref, ...(boot ? { boot } : {}) });
  }
  let image: DescriptorImage | undefined;
  if (m.image) {
    const ref = await files.image(v, m.image, `${tag} image`);
    const fits = mibFor(ref.virtualSize);
    const minDiskMiB = m.image.minDiskMiB ?? fits;
    if (minDiskMiB < fits)
      throw ChanErr.CHAN_ERR_MANIFEST_INVALID(`${v.file}: /image/minDiskMiB: ${minDiskMiB} is below the image's ${fits} MiB`);
    image = { format: m.image.format, firmware: m.image.firmware ?? 'bios', minDiskMiB, url: ref.url, size: ref.size, sha256: ref.sha256 };
  }
  return {
    name: m.name,
    version: m.version,
    title: m.title.trim(),
    description: m.description.trim(),
    released: isoSeconds(m.released),
    ...(m.upgradesFrom === undefined ? {} : { upgradesFrom: m.upgradesFrom }),
    memoryMiB: m.memoryMiB,
    vcpus: m.vcpus,
    layers,
    ...(image ? { image } : {}),
    parameters: m.parameters.map((p) => ({ ...p, description: p.description.trim() })),
    config: m.config,
    records: m.records,
    ...(m.principals.length ? { principals: m.principals } : {}),
    ...(m.dataVolume ? { dataVolume: m.dataVolume } : {}),
  };
}

function channelFeed(
  meta: { title: string; description: string; link?: string | undefined },
  baseUrl: string,
  built: { descriptor: ApplianceDescriptor; ref: FileRef }[],
): ChannelFeed {
  const items: FeedItem[] = built.map(({ descriptor: d, ref }) => ({
    name: d.name,
    version: d.version,
    title: `${d.title} ${d.version}`,
    description: d.description,
    pubDate: d.released,
    guid: itemGuid(d.name, d.version),
    link: ref.url,
    ...(d.upgradesFrom === undefined ? {} : { upgradesFrom: d.upgradesFrom }),
    descriptor: ref,
  }));
  const newest = items
    .map((i) => i.pubDate)
    .sort()
    .at(-1);
  return {
    title: meta.title.trim(),
    link: meta.link === undefined ? baseUrl : (parseHttpUrl(meta.link) as string),
    description: meta.description.trim(),
    ...(newest === undefined ? {} : { lastBuildDate: newest }),
    items,
  };
}

/** By name, newest version first: the order of the feed's items. */
function sortVersions(versions: readonly SourceVersion[]): SourceVersion[] {
  return [...versions].sort((a, b) =>
    a.manifest.name === b.manifest.name
      ? compareVersions(b.manifest.version, a.manifest.version)
      : a.manifest.name < b.manifest.name
        ? -1
        : 1,
  );
}

function warnMissingUpgrades(versions: readonly SourceVersion[], log: (line: string) => void): void {
  const have = new Set(versions.map((v) => `${v.manifest.name} ${v.manifest.version}`));
  for (const { manifest: m } of versions) {
    if (m.upgradesFrom !== undefined && !have.has(`${m.name} ${m.upgradesFrom}`))
      log(`warning: ${m.name} ${m.version} upgrades from ${m.upgradesFrom}, which this channel does not list`);
  }
}

/** An absolute http(s) URL without query or fragment, ending in `/`. */
export function normalizeBaseUrl(raw: string): string {
  const href = parseHttpUrl(raw);
  if (href === undefined) throw ChanErr.CHAN_ERR_BASE_URL_INVALID(JSON.stringify(raw));
  const url = new URL(href);
  if (url.search || url.hash) throw ChanErr.CHAN_ERR_BASE_URL_INVALID(`${raw}: no query or fragment`);
  return url.href.endsWith('/') ? url.href : `${url.href}/`;
}

/** A source path as the progress lines show it: relative to the working directory when inside it. */
const shown = (path: string): string => (relative(process.cwd(), path).startsWith('..') ? path : relative(process.cwd(), path));

const isoSeconds = (released: string): string => (parseReleased(released) as Date).toISOString().replace('.000Z', 'Z');

const sha256Hex = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
