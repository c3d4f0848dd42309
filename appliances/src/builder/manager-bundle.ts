/**
 * The storm-manager appliance's payload, one tar file `appliances/build/storm-manager-bundle.tar` (out
 * of git, and out of the tree the type checker, linter and tests walk) made before the recipe builds: the compiled manager (dist/ of `npm run build`)
 * bundled by esbuild into one file at the entry's path (`dist/manager/src/main.js`: Node loads one
 * module instead of ~1,800, which under TCG was most of the manager's minutes to start), its bin script,
 * package.json and the production node_modules (for what a package resolves by path at run time), without the packages the appliance
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
import { build } from 'esbuild';
import { APPLIANCES_DIR } from '../layers.js';

/** Where the recipe's copy step finds the payload (recipes/storm-manager/recipe.json says ../../build/storm-manager-bundle.tar). */
export const MANAGER_BUNDLE = join(APPLIANCES_DIR, 'build', 'storm-manager-bundle.tar');

/** Runtime dependencies the appliance does not copy from node_modules (and why, above). */
export const NOT_BUNDLED = new Set(['sqlite3', '@unraid/libvirt']);
/** Files Node never loads (types, source maps, documentation): a third of the files, which the copy step pays for one by one. */
const UNUSED = /\.(d\.[cm]?ts|map|md|markdown)$/i;
const keep = (src: string) => !UNUSED.test(src) && !src.includes('/node_modules/.bin');
/** The manager's compiled entry, which the bundle replaces at the same path (bin/storm-manager.js imports it). */
const ENTRY = join('dist', 'manager', 'src', 'main.js');

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

/**
 * The manager and every module it imports in one ES module (Node 18's syntax), but for the packages
 * the appliance does not bundle. CommonJS packages inside call `require` for Node's built-ins, which an
 * ES module lacks: the banner makes one. keepNames: a bundled class keeps its name (errors print it).
 */
export async function bundleManager(root: string, outfile: string): Promise<void> {
  await build({
    entryPoints: [join(root, ENTRY)],
    outdir: dirname(outfile),
    entryNames: '[name]',
    // What main.js imports only on demand (libvirt's binding with --local-host) stays in a chunk beside it, loaded then.
    splitting: true,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node18',
    external: [...NOT_BUNDLED],
    keepNames: true,
    banner: {
      js: "import { createRequire as __stormCreateRequire } from 'node:module'; const require = __stormCreateRequire(import.meta.url);",
    },
    logLevel: 'error',
  });
}

export async function stageManagerBundle(root: string, tarFile: string): Promise<{ packages: number }> {
  if (!(await exists(join(root, ENTRY)))) throw new Error(`${join(root, 'dist')}: the manager is not built; run \`npm run build\` first`);
  const dest = `${tarFile}.d`;
  await rm(dest, { recursive: true, force: true });
  await mkdir(join(dest, 'node_modules'), { recursive: true });
  await bundleManager(root, join(dest, ENTRY));
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
