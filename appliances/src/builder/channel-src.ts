/**
 * The folder `storm-channel build` takes: `<out>/channel-src/<name>-<version>/manifest.json` for
 * every built recipe that carries channel metadata, its layers named by absolute path (bottom →
 * top, the OS layer with its kernel and initrd). Checked with the channel's own loader before use.
 *
 * @example
 * const dir = await writeChannelManifest(out, recipe, stack);
 * // storm-channel build <out>/channel-src --out public --base-url https://apps.example/ --key publisher.key
 */
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadChannelSource, type Manifest } from '../../../channels/src/index.js';
import { ApplErr } from '../errors.js';
import type { LayerKind } from '../../../channels/src/format/rules.js';
import type { Recipe } from './recipe.js';

export const CHANNEL_SRC_DIR = 'channel-src';

/** Sizes for people: `812 KiB`, `28.5 MiB`. */
export function formatSize(bytes: number): string {
  return bytes < 1048576 ? `${Math.max(1, Math.round(bytes / 1024))} KiB` : `${(bytes / 1048576).toFixed(1)} MiB`;
}

/** A layer of a built stack, as the manifest and the layer records describe it. */
export interface StackLayer {
  readonly name: string;
  readonly version: string;
  readonly kind: LayerKind;
  /** Absolute path of the squashfs image. */
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

export interface BootFiles {
  readonly kernel: string;
  readonly initrd: string;
}

/** The channel manifest of `recipe` on `layers` (bottom → top, `recipe`'s own last). */
export function channelManifest(recipe: Recipe, layers: readonly StackLayer[], boot: BootFiles): Manifest {
  if (!recipe.channel) throw ApplErr.APPL_ERR_RECIPE_INVALID(`${recipe.name} has no channel metadata`);
  return {
    name: recipe.name,
    version: recipe.version,
    ...recipe.channel,
    layers: layers.map((l, i) =>
      i === 0 ? { kind: l.kind, file: l.file, kernel: boot.kernel, initrd: boot.initrd } : { kind: l.kind, file: l.file },
    ),
  };
}

/** Writes (by rename) and checks the recipe's manifest; returns its version folder. */
export async function writeChannelManifest(out: string, manifest: Manifest): Promise<string> {
  const dir = join(out, CHANNEL_SRC_DIR, `${manifest.name}-${manifest.version}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'manifest.json');
  await writeFile(`${file}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${file}.tmp`, file);
  // The same checks storm-channel applies, on this version alone, so a bad recipe fails here.
  const probe = join(out, '.work', `channel-probe-${manifest.name}`);
  await rm(probe, { recursive: true, force: true });
  await mkdir(join(probe, 'v'), { recursive: true });
  await writeFile(join(probe, 'v', 'manifest.json'), JSON.stringify(manifest));
  try {
    await loadChannelSource(probe);
  } catch (cause) {
    throw ApplErr.APPL_ERR_RECIPE_INVALID(`${manifest.name}: channel metadata: ${(cause as Error).message}`, { cause });
  } finally {
    await rm(probe, { recursive: true, force: true });
  }
  return dir;
}
