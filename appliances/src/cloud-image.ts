/**
 * `debian-cloud`: a traditional appliance built the way a distribution builds its generic cloud
 * image, from Debian's packages (we cannot download published images here): debootstrap with
 * Debian's kernel, extlinux and cloud-init (`recipes/debian-cloud/image.json`), then
 * `recipes/debian-cloud/assemble.sh` makes the tree a BIOS-bootable qcow2. Skipped when its
 * inputs (the recipe, the script) are unchanged: the sha256 of both is kept beside the image.
 * Its channel manifest names the image file (`channel-src/debian-cloud-<version>/manifest.json`).
 *
 * @example
 * const r = await buildCloudImage({ out: 'appliances/build', force: false, log: console.log });
 * r.image;    // 'appliances/build/images/debian-cloud.qcow2'
 * r.manifest; // 'appliances/build/channel-src/debian-cloud-12.0.0/manifest.json'
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runDebootstrap } from './builder/debootstrap.js';
import { runLogged } from './builder/logged-run.js';
import { UNSHARE_ARGS } from './builder/stack-script.js';
import { ApplErr } from './errors.js';
import { APPLIANCES_DIR } from './layers.js';

const RECIPE_DIR = join(APPLIANCES_DIR, 'recipes', 'debian-cloud');

interface CloudImageRecipe {
  readonly name: string;
  readonly version: string;
  readonly title: string;
  readonly description: string;
  readonly released: string;
  readonly suite: string;
  readonly mirror: string;
  readonly include: readonly string[];
  readonly diskMiB: number;
  readonly memoryMiB: number;
  readonly vcpus: number;
}

export interface CloudImageResult {
  readonly image: string;
  readonly manifest: string;
  readonly built: boolean;
}

export async function buildCloudImage(opts: { out: string; force: boolean; log: (line: string) => void }): Promise<CloudImageResult> {
  const recipeText = await readFile(join(RECIPE_DIR, 'image.json'), 'utf8');
  const script = join(RECIPE_DIR, 'assemble.sh');
  const recipe = JSON.parse(recipeText) as CloudImageRecipe;
  const key = createHash('sha256')
    .update(recipeText)
    .update(await readFile(script))
    .digest('hex');
  const imagesDir = join(opts.out, 'images');
  const image = join(imagesDir, `${recipe.name}.qcow2`);
  const keyFile = `${image}.inputs`;
  const manifest = await writeManifest(opts.out, recipe, image);
  const held = await readFile(keyFile, 'utf8').catch(() => '');
  if (
    !opts.force &&
    held.trim() === key &&
    (await readFile(image).then(
      () => true,
      () => false,
    ))
  ) {
    opts.log(`${recipe.name}: up to date (${image})`);
    return { image, manifest, built: false };
  }
  await mkdir(imagesDir, { recursive: true });
  const work = join(opts.out, 'work', recipe.name);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const logFile = join(opts.out, 'logs', `${recipe.name}.log`);
  const epoch = Math.floor(Date.parse(recipe.released) / 1000);
  try {
    opts.log(`${recipe.name}: debootstrap ${recipe.suite} with ${recipe.include.length} packages (log: ${logFile})`);
    await runDebootstrap(
      {
        type: 'debootstrap',
        suite: recipe.suite,
        variant: 'minbase',
        mirror: recipe.mirror,
        include: recipe.include,
        components: ['main'],
      },
      join(work, 'root'),
      { cacheDir: join(opts.out, 'cache', 'debootstrap'), logFile, epoch },
    );
    opts.log(`${recipe.name}: disk of ${recipe.diskMiB} MiB, extlinux, qcow2`);
    await runLogged('unshare', [...UNSHARE_ARGS, '--', 'bash', script, join(work, 'root'), image, String(recipe.diskMiB)], {
      logFile,
      timeoutMs: 20 * 60_000,
      label: `${recipe.name} assemble.sh`,
      error: ApplErr.APPL_ERR_COMMAND,
    });
    await writeFile(keyFile, `${key}\n`);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return { image, manifest, built: true };
}

/** The channel manifest of the image: a traditional appliance whose minimum disk is the image's size. */
async function writeManifest(out: string, r: CloudImageRecipe, image: string): Promise<string> {
  const dir = join(out, 'channel-src', `${r.name}-${r.version}`);
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'manifest.json');
  const manifest = {
    name: r.name,
    version: r.version,
    title: r.title,
    description: r.description,
    released: r.released,
    memoryMiB: r.memoryMiB,
    vcpus: r.vcpus,
    image: { file: image, format: 'qcow2', firmware: 'bios' },
    parameters: [
      { name: 'userData', type: 'string', default: '', description: 'More cloud-init user-data (a #cloud-config or a script).' },
    ],
  };
  await writeFile(file, `${JSON.stringify(manifest, null, 2)}\n`);
  return file;
}
