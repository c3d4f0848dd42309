/**
 * Layer sources and how they become squashfs images. A source is a folder with `layer.json` and a
 * `rootfs/`; the rootfs must ship its marker `/etc/storm/layers/<name>`. An OS layer may ask for
 * busybox (binary plus applet links), for host programs with their libraries (`binaries`), and for
 * directories git cannot hold (empty ones, /tmp 1777).
 */
import { access, chmod, mkdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { appletDirs, appletLinks, type Busybox } from './busybox.js';
import { ApplErr } from './errors.js';
import { binaryClosure, copyHostFiles } from './host-binaries.js';
import { makeSquashfs } from './squashfs.js';
import { stageTree } from './tree.js';

export const APPLIANCES_DIR = fileURLToPath(new URL('../', import.meta.url));

export const LayerJson = Type.Object(
  {
    name: Type.String({ pattern: '^[a-z0-9][a-z0-9-]*$', maxLength: 64 }),
    version: Type.String({ pattern: '^[0-9A-Za-z.+~-]+$', maxLength: 64 }),
    kind: Type.Union([Type.Literal('os'), Type.Literal('appliance'), Type.Literal('deployment')]),
    description: Type.Optional(Type.String({ maxLength: 500 })),
    /** Name of the layer this one sits on (documentation for now). */
    requires: Type.Optional(Type.String()),
    /** Add /bin/busybox and its applet links (an OS layer). */
    busybox: Type.Optional(Type.Boolean()),
    /** Directories to create, relative path → octal mode. */
    dirs: Type.Optional(Type.Record(Type.String(), Type.String({ pattern: '^[0-7]{3,4}$' }))),
    /** Files shared with other layers, layer path → source path relative to `appliances/` (e.g. the guest agent). */
    files: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Host programs copied in with the libraries they load, at the same paths (host-binaries.ts). */
    binaries: Type.Optional(Type.Array(Type.String({ pattern: '^/[A-Za-z0-9._/+-]+$' }), { maxItems: 16 })),
  },
  { additionalProperties: false },
);
export type LayerJson = Static<typeof LayerJson>;

export interface LayerTarget {
  /** Source folder relative to `appliances/`. */
  readonly source: string;
  /** Image path relative to the output directory. */
  readonly output: string;
}

/** The images `npm run build:appliances` makes; names other parts of STORM rely on. */
export const LAYER_TARGETS: readonly LayerTarget[] = [
  { source: 'substrates/tiny-os', output: 'layers/tiny-os.squashfs' },
  { source: 'samples/hello-web/1.0.0', output: 'layers/hello-web.squashfs' },
  { source: 'samples/hello-web/1.1.0', output: 'layers/hello-web-1.1.0.squashfs' },
];

export interface LayerSource {
  readonly dir: string;
  readonly rootfs: string;
  readonly meta: LayerJson;
}

const exists = (p: string): Promise<boolean> =>
  access(p).then(
    () => true,
    () => false,
  );
const safeRel = (p: string): boolean => p !== '' && !p.startsWith('/') && !p.split('/').some((s) => s === '..' || s === '.' || s === '');

export async function loadLayerSource(dir: string): Promise<LayerSource> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(join(dir, 'layer.json'), 'utf8'));
  } catch (cause) {
    throw ApplErr.APPL_ERR_LAYER_INVALID(`${dir}/layer.json: ${(cause as Error).message}`, { cause });
  }
  if (!Value.Check(LayerJson, raw)) {
    const problems = [...Value.Errors(LayerJson, raw)].map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw ApplErr.APPL_ERR_LAYER_INVALID(`${dir}/layer.json: ${problems.join('; ')}`);
  }
  const meta = raw;
  const rootfs = join(dir, 'rootfs');
  for (const d of Object.keys(meta.dirs ?? {})) {
    if (!safeRel(d)) throw ApplErr.APPL_ERR_LAYER_INVALID(`${dir}/layer.json: bad dirs entry '${d}'`);
  }
  for (const [to, from] of Object.entries(meta.files ?? {})) {
    if (!safeRel(to) || !safeRel(from)) throw ApplErr.APPL_ERR_LAYER_INVALID(`${dir}/layer.json: bad files entry '${to}': '${from}'`);
    if (!(await exists(join(APPLIANCES_DIR, from))))
      throw ApplErr.APPL_ERR_LAYER_INVALID(`${dir}/layer.json: files source ${from} does not exist`);
  }
  if (!(await exists(join(rootfs, 'etc/storm/layers', meta.name)))) {
    throw ApplErr.APPL_ERR_LAYER_INVALID(`${dir}: rootfs has no marker etc/storm/layers/${meta.name}`);
  }
  return { dir, rootfs, meta };
}

/** Fills `stage` (created fresh) with the layer's final tree. */
export async function stageLayer(src: LayerSource, stage: string, busybox?: Busybox): Promise<void> {
  await rm(stage, { recursive: true, force: true });
  await mkdir(stage, { recursive: true });
  await stageTree(src.rootfs, stage);
  if (src.meta.busybox) {
    if (!busybox) throw ApplErr.APPL_ERR_LAYER_INVALID(`${src.meta.name} wants busybox but none was given`);
    for (const d of appletDirs(busybox.applets)) await mkdir(join(stage, d), { recursive: true, mode: 0o755 });
    await writeFile(join(stage, 'bin/busybox'), busybox.data, { mode: 0o755 });
    await chmod(join(stage, 'bin/busybox'), 0o755);
    for (const link of appletLinks(busybox.applets)) {
      // A file the rootfs ships wins over the applet of the same name.
      if (!(await exists(join(stage, link.path)))) await symlink(link.target, join(stage, link.path));
    }
  }
  for (const [to, from] of Object.entries(src.meta.files ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const target = join(stage, ...to.split('/'));
    await mkdir(dirname(target), { recursive: true, mode: 0o755 });
    const source = join(APPLIANCES_DIR, from);
    await writeFile(target, await readFile(source), { mode: (await stat(source)).mode & 0o777 });
    await chmod(target, (await stat(source)).mode & 0o777);
  }
  if (src.meta.binaries?.length) await copyHostFiles(await binaryClosure(src.meta.binaries), stage);
  // Parents before children, so a parent's mode is set before its child is made.
  for (const [d, mode] of Object.entries(src.meta.dirs ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const path = join(stage, ...posix.normalize(d).split('/'));
    await mkdir(path, { recursive: true, mode: 0o755 });
    await chmod(path, Number.parseInt(mode, 8));
  }
}

/** Stages the layer in `work` and packs it into `outFile`. */
export async function buildLayer(src: LayerSource, outFile: string, work: string, busybox?: Busybox): Promise<void> {
  try {
    await stageLayer(src, work, busybox);
    await makeSquashfs(work, outFile);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}
