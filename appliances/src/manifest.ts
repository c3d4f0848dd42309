/**
 * `manifest.json` in the output directory: what was built, from what, with sizes and sha256 —
 * what hosts, channels and tests read instead of guessing from file names.
 */
import { createHash } from 'node:crypto';
import { readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KernelPackage } from './kernel.js';
import type { LayerJson } from './layers.js';

export interface ArtifactFile {
  /** Path relative to the output directory. */
  readonly file: string;
  readonly size: number;
  readonly sha256: string;
}

export interface Manifest {
  readonly kernel: ArtifactFile & { readonly package: string; readonly version: string; readonly release: string };
  readonly initrd: ArtifactFile;
  readonly layers: readonly (ArtifactFile & Pick<LayerJson, 'name' | 'version' | 'kind'>)[];
}

export async function describeFile(out: string, file: string): Promise<ArtifactFile> {
  const data = await readFile(join(out, file));
  return { file, size: (await stat(join(out, file))).size, sha256: createHash('sha256').update(data).digest('hex') };
}

export interface ManifestInputs {
  readonly kernelPackage: KernelPackage;
  readonly release: string;
  readonly layers: readonly { readonly output: string; readonly meta: LayerJson }[];
}

export async function makeManifest(out: string, inputs: ManifestInputs): Promise<Manifest> {
  const layers = [];
  for (const l of inputs.layers) {
    layers.push({ name: l.meta.name, version: l.meta.version, kind: l.meta.kind, ...(await describeFile(out, l.output)) });
  }
  return {
    kernel: {
      package: inputs.kernelPackage.name,
      version: inputs.kernelPackage.version,
      release: inputs.release,
      ...(await describeFile(out, 'vmlinuz')),
    },
    initrd: await describeFile(out, 'initrd.img'),
    layers,
  };
}

export async function writeManifest(out: string, manifest: Manifest): Promise<void> {
  const path = join(out, 'manifest.json');
  await writeFile(`${path}.tmp`, `${JSON.stringify(manifest, null, 2)}\n`);
  await rename(`${path}.tmp`, path);
}
