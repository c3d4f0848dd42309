/**
 * Boots the built artifacts under qemu (TCG, no libvirt) and checks the console contract:
 * a full stack with hello-web (page fetched over a loopback port forward), power-button shutdown
 * with the boot stamp found in the instance layer, and /init's error cases.
 * Usage: node --import tsx appliances/src/boot-check.ts [--out DIR] [--verbose]
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { APPLIANCES_DIR } from './layers.js';
import { Guest, type GuestDisk } from './qemu-boot.js';
import { run } from './run.js';

const { values } = parseArgs({ options: { out: { type: 'string' }, verbose: { type: 'boolean' } } });
const OUT = resolve(values.out ?? join(APPLIANCES_DIR, 'build'));
const BOOT_MS = 180_000;
const secs = (ms: number): string => `${(ms / 1000).toFixed(1)}s`;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** An instance layer as stormd makes it: ext4 on the whole disk, identity under upper/. */
async function instanceLayer(dir: string, id: string, name: string): Promise<string> {
  const seed = join(dir, `seed-${id}`);
  await mkdir(join(seed, 'upper/etc/storm'), { recursive: true });
  await mkdir(join(seed, 'work'));
  await writeFile(join(seed, 'upper/etc/storm/instance.json'), JSON.stringify({ id, name }));
  await run('mkfs.ext4', ['-q', '-d', seed, join(dir, `${id}.raw`), '64M']);
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, `${id}.raw`), join(dir, `${id}.qcow2`)]);
  return join(dir, `${id}.qcow2`);
}

const layer = (name: string): GuestDisk => ({ file: join(OUT, 'layers', name), format: 'raw', readonly: true });
const boot = (append: string, disks: GuestDisk[], httpHostPort?: number): Guest =>
  Guest.start({ kernel: join(OUT, 'vmlinuz'), initrd: join(OUT, 'initrd.img'), append, disks, httpHostPort });

async function positive(dir: string): Promise<void> {
  const inst = await instanceLayer(dir, 'i-1', 'web1');
  const port = await freePort();
  const g = boot(
    'storm.layers=vda:ro,vdb:ro,vdc:rw',
    [layer('tiny-os.squashfs'), layer('hello-web.squashfs'), { file: inst, format: 'qcow2', readonly: false }],
    port,
  );
  try {
    const initRun = await g.waitFor(/Run \/init as init process/, BOOT_MS);
    const ready = await g.waitFor(/^STORM-INIT: root ready layers=3$/, BOOT_MS);
    await g.waitFor(/^STORM-OS: layers present: hello-web tiny-os$/, BOOT_MS);
    await g.waitFor(/^STORM-OS: instance name=web1 id=i-1$/, BOOT_MS);
    const httpd = await g.waitFor(/^hello-web: httpd started on :80$/, BOOT_MS);
    const osReady = await g.waitFor(/^STORM-OS: ready$/, BOOT_MS);
    const page = await (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(10_000) })).text();
    if (!page.includes('Hello from hello-web 1.0.0')) throw new Error('unexpected page');
    console.log(
      `boot: /init started ${secs(initRun.ms)}, root ready ${secs(ready.ms)}, httpd ${secs(httpd.ms)}, STORM-OS ready ${secs(osReady.ms)} (from qemu start); page served`,
    );
    const pressed = Date.now();
    await g.powerdown();
    const exit = await g.waitExit(60_000);
    if (exit === undefined) throw new Error('guest did not power off within 60s of the power button');
    if (!g.lines.some((l) => /^STORM-OS: writable layer vdc read-only$/.test(l.text)))
      throw new Error('writable layer not frozen at shutdown');
    const raw = join(dir, 'check.raw');
    await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', inst, raw]);
    await run('e2fsck', ['-fn', raw]);
    const { stdout } = await run('debugfs', ['-R', 'cat /upper/var/lib/storm/boot-stamp', raw]);
    if (!/^count=1$/m.test(stdout)) throw new Error(`boot stamp not in the instance layer: ${stdout}`);
    console.log(`power button: off in ${secs(Date.now() - pressed)}; instance layer clean, upper/var/lib/storm/boot-stamp count=1`);
  } catch (err) {
    console.log(g.console());
    throw err;
  } finally {
    g.kill();
  }
  if (values.verbose) console.log(g.console());
}

async function negative(name: string, append: string, disks: GuestDisk[], want: RegExp): Promise<void> {
  const g = boot(append, disks);
  try {
    const line = await g.waitFor(/^STORM-INIT: error /, BOOT_MS);
    if (!want.test(line.text)) throw new Error(`${name}: unexpected ${line.text}`);
    const exit = await g.waitExit(30_000);
    if (exit === undefined) throw new Error(`${name}: qemu still running 30s after the error`);
    console.log(`${name}: "${line.text}" at ${secs(line.ms)}, qemu exited at ${secs(exit)}`);
  } catch (err) {
    console.log(g.console());
    throw err;
  } finally {
    g.kill();
  }
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'storm-boot-check-'));
  try {
    await positive(dir);
    const ro = await instanceLayer(dir, 'i-2', 'ro');
    const base = [layer('tiny-os.squashfs'), layer('hello-web.squashfs')];
    await negative(
      'rw role on a read-only disk',
      'storm.layers=vda:ro,vdb:ro,vdc:rw',
      [...base, { file: ro, format: 'qcow2', readonly: true }],
      /disk vdc is read-only but its role is rw/,
    );
    await negative('missing disk', 'storm.layers=vda:ro,vdb:ro,vdc:rw', base, /disk\(s\) vdc missing/);
    await negative('malformed storm.layers=', 'storm.layers=vda:ro,vdb:rw,vdc:ro', base, /rw layer must be the last/);
    console.log('boot-check: all passed');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(`boot-check: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 1;
});
