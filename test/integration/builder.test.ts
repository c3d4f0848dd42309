/**
 * The appliance builder with real parts and tiny inputs: the fixture recipes
 * (test/fixtures/builder) on a lower layer made here from the host's static busybox. Builds run
 * through `storm-appliance build` and the library; layers are read back with unsquashfs and by
 * mounting them under overlayfs (in a private mount namespace) to see the union a guest sees.
 */
import { execFile } from 'node:child_process';
import { cp, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChannel, generatePublisherKey, parseDescriptor } from '../../channels/src/index.js';
import { buildRecipeStack } from '../../appliances/src/builder/build-stack.js';
import { loadRecipe } from '../../appliances/src/builder/recipe.js';
import { runScript } from '../../appliances/src/builder/actions.js';
import { mountsUnder, runInStack } from '../../appliances/src/builder/stack.js';
import { ApplErr } from '../../appliances/src/errors.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURES = join(ROOT, 'test/fixtures/builder');
const CLI = ['--import', 'tsx', join(ROOT, 'appliances/src/builder/main.ts')];
const APPLETS = ['sh', 'rm', 'mkdir', 'chown', 'sleep', 'cat', 'ls', 'echo'];

/** A lower layer a guest OS could be: busybox, the API mount points, files for recipes to touch. */
async function makeLower(dir: string): Promise<string> {
  const root = join(dir, 'lower');
  for (const d of ['bin', 'etc/keep', 'etc/opaque-dir', 'run', 'proc', 'sys', 'dev', 'tmp', 'var/log', 'srv', 'usr/share'])
    await mkdir(join(root, d), { recursive: true });
  await cp('/bin/busybox', join(root, 'bin/busybox'));
  for (const a of APPLETS) await symlink('busybox', join(root, 'bin', a));
  await writeFile(join(root, 'etc/motd'), 'welcome\n');
  await writeFile(join(root, 'etc/keep/untouched'), 'stays in the lower only\n');
  await writeFile(join(root, 'etc/opaque-dir/old1'), 'hidden by the recipe\n');
  await writeFile(join(root, 'etc/opaque-dir/old2'), 'hidden by the recipe\n');
  await writeFile(join(root, 'etc/append-me'), 'first\n');
  await run('mksquashfs', [root, join(dir, 'lower.squashfs'), '-noappend', '-quiet', '-no-progress']);
  return join(dir, 'lower.squashfs');
}

/** `unsquashfs -lln` as path → `mode uid/gid size` lines (size is `maj,min` for devices). */
async function listing(image: string): Promise<Map<string, string>> {
  const { stdout } = await run('unsquashfs', ['-lln', image], { maxBuffer: 64 << 20 });
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S+) (\d+)\/(\d+)\s+(\d+,\s*\d+|\d+) \S+ \S+ squashfs-root(\/.*?)?(?: -> .*)?$/.exec(line);
    if (m) out.set(m[5] ?? '/', `${m[1]} ${m[2]}/${m[3]} ${(m[4] ?? '').replace(/\s/g, '')}`);
  }
  return out;
}

/** Runs `script` with the layers mounted as a guest would see them: $U is the union, $L1.. the layers. */
async function inUnion(images: readonly string[], script: string): Promise<string> {
  const mounts = images
    .map((img, i) => `mkdir -p "$T/l${i}"; mount -t squashfs -o ro,loop ${JSON.stringify(img)} "$T/l${i}"; L${i}="$T/l${i}"`)
    .join('\n');
  const lowerdir = images
    .map((_, i) => `$T/l${i}`)
    .reverse()
    .join(':');
  const sh = `set -e\nT=$(mktemp -d)\ntrap 'umount -R "$T/u" 2>/dev/null; for m in "$T"/l*; do umount "$m" 2>/dev/null; done; rm -rf "$T"' EXIT\n${mounts}\nmkdir "$T/u"\nmount -t overlay overlay -o "lowerdir=${lowerdir},redirect_dir=off,index=off,metacopy=off" "$T/u"\nU="$T/u"\n${script}\n`;
  const { stdout } = await run('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', sh]);
  return stdout;
}

const xattrs = (path: string): string =>
  `python3 -c 'import os,sys; print(sorted(os.listxattr(sys.argv[1], follow_symlinks=False)))' ${path}`;

async function stray(marker: string): Promise<string[]> {
  const { stdout } = await run('ps', ['-eo', 'pid,args']);
  return stdout.split('\n').filter((l) => l.includes(marker) && !l.includes('ps -eo'));
}

describe('storm-appliance: tiny recipes on a tiny lower', () => {
  let dir: string;
  let lower: string;
  const log: string[] = [];
  const logger = (l: string): void => void log.push(l);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-builder-'));
    await cp(FIXTURES, dir, { recursive: true, verbatimSymlinks: true });
    lower = await makeLower(dir);
    await writeFile(join(dir, 'vmlinuz'), 'not a kernel\n');
    await writeFile(join(dir, 'initrd.img'), 'not an initrd\n');
  });

  afterAll(async () => {
    if (dir && !(await mountsUnder(dir)).length) await rm(dir, { recursive: true, force: true });
  });

  it('builds the same bytes twice, through the CLI, in two output folders', async () => {
    const shas: string[] = [];
    for (const out of ['out-a', 'out-b']) {
      const { stdout } = await run(process.execPath, [...CLI, 'build', join(dir, 'tiny-app'), '--out', join(dir, out)], { cwd: ROOT });
      expect(stdout).toMatch(/recipe tiny-app: built in/);
      expect(stdout).toMatch(/publish: storm-channel build/);
      const record = JSON.parse(await readFile(join(dir, out, 'layers/tiny-app.json'), 'utf8')) as { sha256: string; lowers: string[] };
      expect(record.lowers).toEqual(['tiny-app-base']);
      shas.push(record.sha256);
    }
    expect(shas[0]).toMatch(/^[0-9a-f]{64}$/);
    expect(shas[1]).toBe(shas[0]);
  }, 120_000);

  it('holds only what the recipe changed: no untouched lower file, no build leftovers', async () => {
    const files = await listing(join(dir, 'out-a/layers/tiny-app.squashfs'));
    expect([...files.keys()].sort()).toEqual([
      '/',
      '/etc',
      '/etc/append-me',
      '/etc/motd',
      '/etc/opaque-dir',
      '/etc/opaque-dir/new',
      '/etc/storm',
      '/etc/storm/layers',
      '/etc/storm/layers/tiny-app',
      '/etc/tiny-app',
      '/etc/tiny-app/app.conf',
      '/etc/tiny-app/current.conf',
      '/srv',
      '/srv/made',
      '/srv/owned',
      '/usr',
      '/usr/bin',
      '/usr/bin/tiny-hello',
      '/var',
      '/var/log',
    ]);
    expect(files.get('/etc/motd')).toBe('c--------- 0/0 0,0'); // the deletion, as a whiteout
    expect(files.get('/srv/owned')).toMatch(/^drwxr-xr-x 1234\/4321 /); // owners kept
    expect(files.get('/usr/bin/tiny-hello')).toMatch(/^-rwxr-xr-x 0\/0 /);
    expect(files.get('/etc/tiny-app/app.conf')).toMatch(/^-rw-r--r-- 0\/0 /);
    expect(files.get('/etc/tiny-app/current.conf')).toMatch(/^lrwxrwxrwx 0\/0 /);
    const { stdout } = await run('unsquashfs', ['-cat', join(dir, 'out-a/layers/tiny-app.squashfs'), 'etc/storm/layers/tiny-app']);
    expect(stdout).toBe('name=tiny-app\nversion=1.0.0\nkind=appliance\n');
  });

  it('means in the union what the recipe did: deletion gone, opaque dir, lower files intact', async () => {
    const layer = join(dir, 'out-a/layers/tiny-app.squashfs');
    const out = await inUnion(
      [lower, layer],
      [
        'echo "motd:$(test -e "$U/etc/motd" && echo present || echo gone)"',
        'echo "opaque:$(ls "$U/etc/opaque-dir" | tr "\\n" " ")"',
        'echo "keep:$(cat "$U/etc/keep/untouched")"',
        'echo "append:$(cat "$U/etc/append-me" | tr "\\n" " ")"',
        'echo "hello:$(cat "$U/usr/bin/tiny-hello" | tail -n 1)"',
        `echo "x-opaque:$(${xattrs('"$L1/etc/opaque-dir"')})"`,
        `echo "x-append:$(${xattrs('"$L1/etc/append-me"')})"`,
      ].join('\n'),
    );
    expect(out).toContain('motd:gone');
    expect(out).toContain('opaque:new \n');
    expect(out).toContain('keep:stays in the lower only');
    expect(out).toContain('append:first more ');
    expect(out).toContain('hello:echo hello from tiny-app');
    // The opaque marker survives; overlayfs's own bookkeeping (origin, impure) does not.
    expect(out).toContain("x-opaque:['trusted.overlay.opaque']");
    expect(out).toContain('x-append:[]');
  }, 60_000);

  it('stacks a deployment on the appliance and publishes both with storm-channel', async () => {
    const out = join(dir, 'out-a');
    const r = await buildRecipeStack(await loadRecipe(join(dir, 'tiny-deploy')), { out, force: false, log: logger });
    expect(r.layers.map((l) => `${l.kind}:${l.name}`)).toEqual(['os:tiny-app-base', 'appliance:tiny-app', 'deployment:tiny-deploy']);
    expect(r.built).toBe(1); // tiny-app is up to date from the first test
    expect(log).toContain('recipe tiny-app: up to date');
    const files = await listing(join(out, 'layers/tiny-deploy.squashfs'));
    expect(files.get('/etc/tiny-app/app.conf')).toBe('c--------- 0/0 0,0');
    expect(files.has('/etc/tiny-app/site.conf')).toBe(true);
    expect(files.has('/usr/bin/tiny-hello')).toBe(false);
    const union = await inUnion(
      r.layers.map((l) => l.file),
      'ls "$U/etc/tiny-app" | tr "\\n" " "',
    );
    expect(union).toBe('current.conf site.conf ');

    const keys = await generatePublisherKey(join(dir, 'keys'));
    const built = await buildChannel({
      src: join(out, 'channel-src'),
      out: join(dir, 'public'),
      baseUrl: 'http://127.0.0.1:8099/',
      keyPath: keys.privateKeyPath,
    });
    expect(built.descriptors.map((d) => `${d.name} ${d.version}`).sort()).toEqual(['tiny-app 1.0.0', 'tiny-deploy 1.0.0']);
    const xml = await readFile(join(dir, 'public/appliances/tiny-deploy/1.0.0/appliance.xml'));
    const desc = parseDescriptor(xml);
    expect(desc.layers.map((l) => [l.kind, l.sha256])).toEqual(r.layers.map((l) => [l.kind, l.sha256]));
    const app = parseDescriptor(await readFile(join(dir, 'public/appliances/tiny-app/1.0.0/appliance.xml')));
    expect(app.records).toEqual([expect.objectContaining({ type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 })]);
  }, 120_000);

  it('rebuilds when an input changes, and only then', async () => {
    const out = join(dir, 'out-b');
    const before = JSON.parse(await readFile(join(out, 'layers/tiny-app.json'), 'utf8')) as { sha256: string };
    log.length = 0;
    await buildRecipeStack(await loadRecipe(join(dir, 'tiny-app')), { out, force: false, log: logger });
    expect(log).toContain('recipe tiny-app: up to date');
    // An optional source appearing is a changed input.
    await mkdir(join(dir, 'extra'));
    await writeFile(join(dir, 'extra/notes.txt'), 'notes\n');
    log.length = 0;
    const r = await buildRecipeStack(await loadRecipe(join(dir, 'tiny-app')), { out, force: false, log: logger });
    expect(log.some((l) => /^recipe tiny-app: built in/.test(l))).toBe(true);
    expect(r.layers[1]?.sha256).not.toBe(before.sha256);
    expect((await listing(join(out, 'layers/tiny-app.squashfs'))).get('/usr/share/tiny-app/notes.txt')).toMatch(/^-rw-r--r-- 0\/0 6$/);
  }, 120_000);

  it('fails a step with its code and log, and leaves no mount, loop device or process', async () => {
    const out = join(dir, 'out-fail');
    const err = await buildRecipeStack(await loadRecipe(join(dir, 'tiny-fail')), { out, force: false, log: logger }).catch(
      (e: unknown) => e,
    );
    expect(ApplErr.APPL_ERR_RECIPE_STEP.is(err)).toBe(true);
    expect((err as Error).message).toMatch(/tiny-fail step 1\/1 \(run\) \(exit 3\)/);
    expect((err as Error).message).toContain('about to fail');
    expect(await readFile(join(out, 'logs/tiny-fail.log'), 'utf8')).toContain('about to fail');
    expect(await mountsUnder(out)).toEqual([]);
    expect(await stray('sleep 7778')).toEqual([]);
    await expect(readFile(join(out, '.work/recipe-tiny-fail/upper/x'))).rejects.toThrow(); // scratch removed
  }, 120_000);

  it('runs steps in a whole root (no lowers, as an OS build does) and keeps their exit status', async () => {
    const work = join(dir, 'whole');
    const upper = join(work, 'upper');
    await cp(join(dir, 'lower'), upper, { recursive: true, verbatimSymlinks: true });
    const spec = { dir: work, lowers: [], upper, epoch: 1, busybox: '/bin/busybox', logFile: join(work, 'log') };
    await runInStack(spec, { label: 'ok', shell: 'layer', script: runScript(['echo in-root >/etc/whole', 'rm /etc/motd']) });
    expect(await readFile(join(upper, 'etc/whole'), 'utf8')).toBe('in-root\n');
    await expect(readFile(join(upper, 'etc/motd'))).rejects.toThrow(); // no lowers: a plain removal, no whiteout
    await expect(runInStack(spec, { label: 'fails', shell: 'layer', script: runScript('exit 5') })).rejects.toThrow(/fails \(exit 5\)/);
    expect(await mountsUnder(work)).toEqual([]);
  });

  it('leaves nothing behind after all builds', async () => {
    expect(await mountsUnder(dir)).toEqual([]);
    expect(await stray('sleep 7777')).toEqual([]);
    const { stdout } = await run('losetup', ['-a']);
    expect(stdout.split('\n').filter((l) => l.includes(dir))).toEqual([]);
  });
});
