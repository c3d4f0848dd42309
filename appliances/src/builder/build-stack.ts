/**
 * Builds a recipe and every recipe beneath it, bottom first, each skipped when its inputs are
 * unchanged (the recipe's folder, files it copies from elsewhere, the images beneath, the debootstrap
 * source, the builder's code and tools). Writes `<out>/layers/<name>.squashfs` and `<name>.json`
 * per layer and, for recipes with channel metadata, the manifest `storm-channel build` reads.
 *
 * @example
 * const r = await buildRecipeStack(await loadRecipe('appliances/recipes/nginx-web'),
 *   { out: 'appliances/build', boot: { kernel: 'appliances/build/vmlinuz', initrd: 'appliances/build/initrd.img' }, force: false, log: console.log });
 * r.layers.map((l) => `${l.name} ${l.sha256}`);
 */
import { createHash } from 'node:crypto';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadBusybox, BUSYBOX_PATH } from '../busybox.js';
import { ApplErr } from '../errors.js';
import { mksquashfsVersion } from '../squashfs.js';
import { fingerprintOf, runStep } from '../step.js';
import { hashTree } from '../tree.js';
import { buildRecipeLayer, layerImagePath } from './build-layer.js';
import { channelManifest, formatSize, writeChannelManifest, type BootFiles, type StackLayer } from './channel-src.js';
import { copySource } from './copy-stage.js';
import { effectiveMirror } from './debootstrap.js';
import { sha256File } from './finalize.js';
import { recipeChain, type Recipe } from './recipe.js';
import { STACK_SCRIPT } from './stack-script.js';

export interface StackBuildOptions {
  readonly out: string;
  /** Kernel and initrd of an OS built from debootstrap (the STORM ones that boot it). */
  readonly boot?: BootFiles;
  readonly force: boolean;
  readonly log: (line: string) => void;
  /** Layers already built in this run, by recipe file: stacks sharing an OS build it once. */
  readonly memo?: Map<string, StackLayer>;
}

export interface StackBuildResult {
  /** Bottom → top; the first is the OS layer (built or given). */
  readonly layers: readonly StackLayer[];
  readonly boot: BootFiles;
  /** Version folders written under `<out>/channel-src/`. */
  readonly channelDirs: readonly string[];
  readonly built: number;
  readonly fresh: number;
}

/** The builder's own code (relative to appliances/src/): a change to any of it rebuilds every recipe. */
export const BUILDER_CODE = [
  'builder/actions.ts',
  'builder/build-layer.ts',
  'builder/copy-stage.ts',
  'builder/debootstrap.ts',
  'builder/finalize.ts',
  'builder/recipe.ts',
  'builder/recipe-schema.ts',
  'builder/stack.ts',
  'builder/stack-script.ts',
  'tree.ts',
];

/** sha256 of BUILDER_CODE: the sources under tsx, their compiled .js when run from dist/ (the bin). */
export async function builderCodeHash(): Promise<string> {
  const h = createHash('sha256');
  for (const f of BUILDER_CODE) {
    const src = new URL(`../${f}`, import.meta.url);
    h.update(await readFile(src).catch(() => readFile(new URL(`../${f.replace(/\.ts$/, '.js')}`, import.meta.url))));
  }
  return h.digest('hex');
}

async function describeLayer(meta: Pick<StackLayer, 'name' | 'version' | 'kind'>, file: string): Promise<StackLayer> {
  const st = await stat(file).catch(() => undefined);
  if (!st?.isFile()) throw ApplErr.APPL_ERR_RECIPE_INVALID(`layer image ${file} does not exist`);
  return { ...meta, file, size: st.size, sha256: await sha256File(file) };
}

/** Files a recipe copies from outside its own folder (e.g. the guest agent) are inputs too. */
async function outsideInputs(recipe: Recipe): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const step of recipe.steps) {
    if (!('copy' in step)) continue;
    const src = await copySource(step, recipe.dir);
    if (src?.startsWith(`${recipe.dir}/`)) continue;
    const st = src ? await stat(src) : undefined;
    out[step.copy] = !src || !st ? 'absent' : st.isDirectory() ? await hashTree(src) : await sha256File(src);
  }
  return out;
}

async function bottomOf(chain: readonly Recipe[], opts: StackBuildOptions): Promise<{ base: StackLayer | undefined; boot: BootFiles }> {
  const first = chain[0];
  if (first?.base.type === 'layer') {
    const base = await describeLayer({ name: `${first.name}-base`, version: '0.0.0', kind: 'os' }, first.base.layer);
    return { base, boot: { kernel: first.base.kernel, initrd: first.base.initrd } };
  }
  if (!opts.boot)
    throw ApplErr.APPL_ERR_USAGE(`${first?.name}: an OS built from debootstrap needs the STORM kernel and initrd (--boot DIR)`);
  for (const f of [opts.boot.kernel, opts.boot.initrd]) {
    if (
      !(await stat(f).then(
        (s) => s.isFile(),
        () => false,
      ))
    )
      throw ApplErr.APPL_ERR_USAGE(`${f} does not exist (run npm run build:appliances first)`);
  }
  return { base: undefined, boot: opts.boot };
}

export async function buildRecipeStack(top: Recipe, opts: StackBuildOptions): Promise<StackBuildResult> {
  const chain = recipeChain(top);
  const { base, boot } = await bottomOf(chain, opts);
  const layers: StackLayer[] = base ? [base] : [];
  const busybox = await loadBusybox();
  const tool = await mksquashfsVersion();
  const code = await builderCodeHash();
  const ctx = { stampDir: join(opts.out, '.stamps'), force: opts.force, log: opts.log };
  const counts = { built: 0, fresh: 0 };
  const channelDirs: string[] = [];
  for (const recipe of chain) {
    const done = opts.memo?.get(recipe.file);
    if (done) {
      layers.push(done);
      continue;
    }
    const image = layerImagePath(opts.out, recipe.name);
    const lowers = layers.map((l) => l.file);
    const result = await runStep(
      {
        name: `recipe ${recipe.name}`,
        outputs: [image],
        fingerprint: async () =>
          fingerprintOf({
            recipe: await hashTree(recipe.dir),
            outside: await outsideInputs(recipe),
            lowers: layers.map((l) => l.sha256),
            debootstrap: recipe.base.type === 'debootstrap' ? { ...recipe.base, mirror: effectiveMirror(recipe.base) } : null,
            busybox: busybox.sha256,
            tool,
            code,
            stack: STACK_SCRIPT,
          }),
        build: async () => {
          await buildRecipeLayer(recipe, { out: opts.out, lowers, busybox: BUSYBOX_PATH, log: opts.log });
          const st = await stat(image);
          return `${recipe.kind} ${recipe.version}, ${formatSize(st.size)}`;
        },
      },
      ctx,
    );
    counts[result]++;
    const layer = await describeLayer({ name: recipe.name, version: recipe.version, kind: recipe.kind }, image);
    await writeFile(
      join(opts.out, 'layers', `${recipe.name}.json`),
      `${JSON.stringify({ ...layer, file: `${recipe.name}.squashfs`, lowers: layers.map((l) => l.name), epoch: recipe.epoch }, null, 2)}\n`,
    );
    layers.push(layer);
    opts.memo?.set(recipe.file, layer);
    if (recipe.channel) channelDirs.push(await writeChannelManifest(opts.out, channelManifest(recipe, layers, boot)));
  }
  return { layers, boot, channelDirs, built: counts.built, fresh: counts.fresh };
}
