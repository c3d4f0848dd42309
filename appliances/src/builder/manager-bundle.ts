/**
 * The storm-manager appliance's payload, one tar file `appliances/build/storm-manager-bundle.tar` (out
 * of git, and out of the tree the type checker, linter and tests walk) made before the recipe builds: the compiled manager (dist/ of `npm run build`), its bin script,
 * package.json and the production node_modules it imports, without the packages the appliance
 * takes from Debian (sqlite3: Debian's node-sqlite3, built for Debian's Node) or does not run
 * (@unraid/libvirt: the manager appliance has no hypervisor). One file because the copy step copies
 * file by file through busybox (4,000 files took a minute) and the recipe unpacks it with the
 * union's tar; the copy step names it by that path (whatever --out says) and hashes it like any file
 * it copies, so a new build of the manager rebuilds the layer. The tar is byte-stable: sorted names,
 * one mtime, root's numeric owner, normalised modes.
 *
 * @example
 * await stageManagerBundle('/repo', MANAGER_BUNDLE);
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { APPLIANCES_DIR } from '../layers.js';

/** Where the recipe's copy step finds the payload (recipes/storm-manager/recipe.json says ../../build/storm-manager-bundle.tar). */
export const MANAGER_BUNDLE = join(APPLIANCES_DIR, 'build', 'storm-manager-bundle.tar');

/** Runtime dependencies the appliance does not copy from node_modules (and why, above). */
export const NOT_BUNDLED = new Set(['sqlite3', '@unraid/libvirt']);
/** Files Node never loads (types, source maps, documentation): a third of the files, which the copy step pays for one by one. */
const UNUSED = /\.(d\.[cm]?ts|map|md|markdown)$/i;
const keep = (src: string) => !UNUSED.test(src) && !src.includes('/node_modules/.bin');
/** The compiled folders the manager imports (from dist/stormd only its wire types; dist/appliances and dist/cli stay out). */
const DIST_DIRS = ['manager', 'common', 'trust', 'channels', 'stormd'];

interface PackageJson {
  readonly dependencies?: Record<string, string>;
  readonly optionalDependencies?: Record<string, string>;
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

/** Node's lookup: `node_modules/<name>` in `from` and every folder above it, up to `root`. */
async function resolvePackage(root: string, from: string, name: string): Promise<string | undefined> {
  for (let dir = from; dir.startsWith(root); dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (await exists(join(candidate, 'package.json'))) return candidate;
    if (dir === root) break;
  }
  return undefined;
}

/** Every package folder the manager's dependencies need, top-level ones only (nested ones travel inside). */
export async function productionPackages(root: string): Promise<string[]> {
  const rootPkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as PackageJson;
  const seen = new Set<string>();
  const queue: Array<[string, string]> = Object.keys(rootPkg.dependencies ?? {})
    .filter((n) => !NOT_BUNDLED.has(n))
    .map((n) => [root, n]);
  while (queue.length > 0) {
    const [from, name] = queue.shift() as [string, string];
    const dir = await resolvePackage(root, from, name);
    if (!dir || seen.has(dir)) continue;
    seen.add(dir);
    const pkg = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as PackageJson;
    for (const dep of [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.optionalDependencies ?? {})]) queue.push([dir, dep]);
  }
  const top = join(root, 'node_modules');
  return [...seen].filter((d) => dirname(d) === top || dirname(dirname(d)) === top).sort();
}

export async function stageManagerBundle(root: string, tarFile: string): Promise<{ packages: number }> {
  if (!(await exists(join(root, 'dist', 'manager', 'src', 'main.js'))))
    throw new Error(`${join(root, 'dist')}: the manager is not built; run \`npm run build\` first`);
  const dest = `${tarFile}.d`;
  await rm(dest, { recursive: true, force: true });
  await mkdir(join(dest, 'node_modules'), { recursive: true });
  for (const d of DIST_DIRS) await cp(join(root, 'dist', d), join(dest, 'dist', d), { recursive: true, filter: keep });
  // The web console when `npm run build:console` has made it (scripts/setup.sh does); without it the manager serves the API only.
  if (await exists(join(root, 'dist', 'console')))
    await cp(join(root, 'dist', 'console'), join(dest, 'dist', 'console'), { recursive: true, filter: keep });
  await cp(join(root, 'bin', 'storm-manager.js'), join(dest, 'bin', 'storm-manager.js'));
  // Only what Node needs to treat dist/ as ES modules; no scripts, no dependencies to install.
  const pkg = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as { name: string; version: string };
  await writeFile(
    join(dest, 'package.json'),
    `${JSON.stringify({ name: pkg.name, version: pkg.version, private: true, type: 'module' }, null, 2)}\n`,
  );
  const packages = await productionPackages(root);
  for (const dir of packages) {
    const rel = dir.slice(join(root, 'node_modules').length + 1);
    // Nested .bin links point at tools the manager never runs.
    await cp(dir, join(dest, 'node_modules', rel), { recursive: true, filter: keep });
  }
  const tmp = `${tarFile}.tmp`;
  await promisify(execFile)('tar', [
    '--sort=name',
    '--format=gnu',
    '--mtime=@0',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '--mode=u+rwX,go+rX,go-w',
    '-cf',
    tmp,
    '-C',
    dest,
    '.',
  ]);
  await rename(tmp, tarFile);
  await rm(dest, { recursive: true, force: true });
  return { packages: packages.length };
}
