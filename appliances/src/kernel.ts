/**
 * The guest kernel from Debian's kernel package: resolve what `linux-image-amd64` depends on,
 * fetch the .deb with `apt-get download` into the cache (never installed on the host), unpack it,
 * run `depmod -b` on the unpacked tree and keep vmlinuz plus the needed modules, uncompressed.
 */
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { ApplErr } from './errors.js';
import { loadOrder, moduleName, NEEDED_MODULES, parseBuiltin, parseModulesDep } from './kernel-modules.js';
import { run, runBuffer } from './run.js';

export const KERNEL_META_PACKAGE = 'linux-image-amd64';

export interface KernelPackage {
  readonly name: string;
  readonly version: string;
  readonly arch: string;
}

/** The `linux-image-*` package named on the first `Depends:` line of `apt-cache depends`. */
export function parseKernelDepends(stdout: string): string | undefined {
  return /^\s*\|?Depends:\s*(linux-image-[^\s<>]+)\s*$/m.exec(stdout)?.[1];
}

/** The `Candidate:` version of `apt-cache policy`. */
export function parseCandidate(stdout: string): string | undefined {
  const v = /^\s*Candidate:\s*(\S+)\s*$/m.exec(stdout)?.[1];
  return v && v !== '(none)' ? v : undefined;
}

export async function resolveKernelPackage(meta = KERNEL_META_PACKAGE): Promise<KernelPackage> {
  const hint = `(is the apt archive reachable and 'apt-get update' done?)`;
  const depends = await run('apt-cache', ['depends', meta]).catch((cause: unknown) => {
    throw ApplErr.APPL_ERR_KERNEL_PACKAGE(`apt-cache depends ${meta} failed ${hint}`, { cause });
  });
  const name = parseKernelDepends(depends.stdout);
  if (!name) throw ApplErr.APPL_ERR_KERNEL_PACKAGE(`${meta} depends on no linux-image package ${hint}`);
  const version = parseCandidate((await run('apt-cache', ['policy', name])).stdout);
  if (!version) throw ApplErr.APPL_ERR_KERNEL_PACKAGE(`${name} has no candidate version ${hint}`);
  const arch = (await run('dpkg', ['--print-architecture'])).stdout.trim();
  return { name, version, arch };
}

/** Where `apt-get download` puts the package (an epoch's colon is written %3a). */
export function debFileName(pkg: KernelPackage): string {
  return `${pkg.name}_${pkg.version.replace(/:/g, '%3a')}_${pkg.arch}.deb`;
}

/** Downloads the package into `cacheDir` unless it is there already (the cache outlives --force). */
export async function fetchDeb(cacheDir: string, pkg: KernelPackage): Promise<string> {
  const dest = join(cacheDir, debFileName(pkg));
  if (
    await access(dest).then(
      () => true,
      () => false,
    )
  )
    return dest;
  await mkdir(cacheDir, { recursive: true });
  // Download into a private directory so an interrupted fetch never looks cached.
  const tmp = await mkdtemp(join(cacheDir, '.download-'));
  try {
    await run('apt-get', ['download', '-q', `${pkg.name}=${pkg.version}`], { cwd: tmp });
    const got = (await readdir(tmp)).filter((f) => f.endsWith('.deb'));
    if (got.length !== 1 || !got[0]) throw ApplErr.APPL_ERR_KERNEL_PACKAGE(`apt-get download gave ${got.join(', ') || 'nothing'}`);
    await rename(join(tmp, got[0]), dest);
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
  return dest;
}

async function readModule(path: string): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFile(path);
  if (path.endsWith('.ko.gz')) return gunzipSync(await readFile(path));
  if (path.endsWith('.ko.xz')) return (await runBuffer('xz', ['-dc', path])).stdout;
  if (path.endsWith('.ko.zst')) return (await runBuffer('zstd', ['-dcq', path])).stdout;
  throw ApplErr.APPL_ERR_MODULE_MISSING(`unknown module format: ${path}`);
}

export interface KernelOutputs {
  /** `uname -r` of the kernel, e.g. `6.1.0-56-amd64`. */
  readonly release: string;
  /** Module file names in load order, e.g. `virtio.ko`. */
  readonly modules: readonly string[];
}

/**
 * Unpacks `deb` under `workDir` and writes `<out>/vmlinuz`, `<out>/modules/` (the modules plus
 * `load-order`) and `<out>/kernel-version`; the unpacked tree is removed afterwards.
 */
export async function extractKernel(deb: string, out: string, workDir: string): Promise<KernelOutputs> {
  const tree = join(workDir, 'tree');
  await rm(workDir, { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  try {
    await run('dpkg-deb', ['-x', deb, tree]);
    const releases = await readdir(join(tree, 'lib/modules')).catch(() => [] as string[]);
    const release = releases[0];
    if (releases.length !== 1 || !release)
      throw ApplErr.APPL_ERR_KERNEL_PACKAGE(`${deb}: expected one lib/modules/<release>, found ${releases.length}`);
    await run('depmod', ['-b', tree, release]);
    const modDir = join(tree, 'lib/modules', release);
    const deps = parseModulesDep(await readFile(join(modDir, 'modules.dep'), 'utf8'));
    const builtin = parseBuiltin(await readFile(join(modDir, 'modules.builtin'), 'utf8').catch(() => ''));
    const order = loadOrder(deps, builtin, NEEDED_MODULES);

    const staged = join(workDir, 'modules');
    await mkdir(staged);
    const names: string[] = [];
    for (const rel of order) {
      const name = `${moduleName(rel)}.ko`;
      await writeFile(join(staged, name), await readModule(join(modDir, rel)));
      names.push(name);
    }
    await writeFile(join(staged, 'load-order'), `${names.join('\n')}\n`);
    await copyFile(join(tree, 'boot', `vmlinuz-${release}`), join(workDir, 'vmlinuz'));

    await mkdir(out, { recursive: true });
    await rm(join(out, 'modules'), { recursive: true, force: true });
    await rename(staged, join(out, 'modules'));
    await rename(join(workDir, 'vmlinuz'), join(out, 'vmlinuz'));
    await writeFile(join(out, 'kernel-version'), `${release}\n`);
    return { release, modules: names };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

/** The kernel release recorded by the last extraction. */
export async function readKernelRelease(out: string): Promise<string> {
  return (await readFile(join(out, 'kernel-version'), 'utf8')).trim();
}
