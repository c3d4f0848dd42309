/**
 * The Debian appliances as `npm run build:appliances -- --debian` builds them (this suite runs that
 * build first: minutes on a fresh checkout, seconds when cached): each appliance rebuilt elsewhere
 * gives the same sha256; its layer holds only what its recipe changed; debian-jeos + nginx-web and
 * debian-jeos + postfix-mail boot under qemu (TCG, no libvirt, user-mode network restricted to a
 * loopback port forward) with an instance layer made as stormd makes it; the page is served by name,
 * deletions are gone in the union, the power button shuts down cleanly and writes land in the
 * instance layer. The network end to end (DHCP, DNS, XML-RPC, LDAP, SMTP) is test/e2e/debian.test.ts.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRecipeStack } from '../../appliances/src/builder/build-stack.js';
import { loadRecipe } from '../../appliances/src/builder/recipe.js';
import { Guest, type GuestDisk } from '../../appliances/src/qemu-boot.js';
import { buildDebianAppliances } from '../helpers/debian-appliances.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const BUILD = join(ROOT, 'appliances/build');
const layer = (name: string): string => join(BUILD, 'layers', `${name}.squashfs`);
const BOOT_MS = 240_000;

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** GET / with a chosen Host header (fetch will not send one). */
function getByName(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((res, rej) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { Host: host }, timeout: 10_000 }, (r) => {
      let body = '';
      r.on('data', (c: Buffer) => (body += c.toString()));
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

/** `unsquashfs -lln` → path → { type, size } for every entry. */
async function entries(image: string): Promise<Map<string, { type: string; size: string }>> {
  const { stdout } = await run('unsquashfs', ['-lln', image], { maxBuffer: 256 << 20 });
  const out = new Map<string, { type: string; size: string }>();
  for (const line of stdout.split('\n')) {
    const m = /^(\S)\S+ \d+\/\d+\s+(\d+,\s*\d+|\d+) \S+ \S+ squashfs-root(\/.*?)?(?: -> .*)?$/.exec(line);
    if (m?.[3]) out.set(m[3], { type: m[1] ?? '?', size: (m[2] ?? '').replace(/\s/g, '') });
  }
  return out;
}

async function fileSha(image: string, path: string): Promise<string> {
  const { stdout } = await run('unsquashfs', ['-cat', image, path.slice(1)], { encoding: 'buffer', maxBuffer: 256 << 20 });
  return createHash('sha256').update(stdout).digest('hex');
}

/** An instance layer as stormd makes it: ext4 on the whole disk, seeded files under upper/. */
async function instanceLayer(dir: string, name: string, files: Record<string, { body: string; mode: number }>): Promise<string> {
  const seed = join(dir, `seed-${name}`);
  await mkdir(join(seed, 'work'), { recursive: true });
  for (const [path, f] of Object.entries(files)) {
    await mkdir(join(seed, 'upper', path, '..'), { recursive: true });
    await writeFile(join(seed, 'upper', path), f.body, { mode: f.mode });
  }
  await run('mkfs.ext4', ['-q', '-d', seed, join(dir, `${name}.raw`), '256M']);
  await run('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', join(dir, `${name}.raw`), join(dir, `${name}.qcow2`)]);
  return join(dir, `${name}.qcow2`);
}

/** Reads a file of the instance layer's upper directory (the guest must be off). */
async function instanceFile(dir: string, qcow2: string, path: string): Promise<string> {
  const raw = join(dir, 'check.raw');
  await run('qemu-img', ['convert', '-f', 'qcow2', '-O', 'raw', qcow2, raw]);
  await run('e2fsck', ['-fn', raw]);
  const { stdout } = await run('debugfs', ['-R', `cat /upper${path}`, raw]);
  return stdout;
}

const CHECK_SERVICE = [
  '#!/bin/sh',
  '# Test probe seeded in the instance layer: what the union shows.',
  'for p in "$@" /etc/motd /etc/nginx/sites-enabled/default /var/www/html /etc/ssl/private/ssl-cert-snakeoil.key; do',
  '\tif [ -e "$p" ] || [ -L "$p" ]; then echo "CHECK: $p present"; else echo "CHECK: $p gone"; fi',
  'done',
  'command -v nginx >/dev/null && echo "CHECK: nginx $(nginx -v 2>&1)"',
  'command -v postconf >/dev/null && echo "CHECK: maps $(postconf -h virtual_mailbox_maps) domains $(postconf -h virtual_mailbox_domains)"',
  '[ -r /run/postfix-mail/ldap-users.cf ] && echo "CHECK: ldap $(grep -E "^(server_host|search_base|bind_dn) " /run/postfix-mail/ldap-users.cf | tr "\\n" ";")"',
  'command -v postfix >/dev/null && echo "CHECK: smtp $(printf "QUIT\\r\\n" | timeout 5 busybox nc 127.0.0.1 25 | head -n 1 | tr -d "\\r")"',
  'exit 0',
].join('\n');

function boot(disks: GuestDisk[], port?: number): Guest {
  return Guest.start({
    kernel: join(BUILD, 'vmlinuz'),
    initrd: join(BUILD, 'initrd.img'),
    append: 'storm.layers=vda:ro,vdb:ro,vdc:rw',
    memoryMiB: 256,
    disks,
    ...(port ? { httpHostPort: port } : {}),
  });
}

describe('the Debian appliances (build:appliances --debian)', () => {
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'storm-debian-'));
    await buildDebianAppliances();
  }, 30 * 60_000);

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it(
    'rebuilds nginx-web and postfix-mail, in another folder, to the same sha256',
    async () => {
      const out = join(dir, 'again');
      // The OS layer as built (its stamp says its inputs are these); the appliances are rebuilt.
      await mkdir(join(out, 'layers'), { recursive: true });
      await mkdir(join(out, '.stamps'), { recursive: true });
      await copyFile(layer('debian-jeos'), join(out, 'layers/debian-jeos.squashfs'));
      await copyFile(join(BUILD, '.stamps/recipe_debian-jeos.fingerprint'), join(out, '.stamps/recipe_debian-jeos.fingerprint'));
      const lines: string[] = [];
      for (const name of ['nginx-web', 'postfix-mail']) {
        const r = await buildRecipeStack(await loadRecipe(join(ROOT, 'appliances/recipes', name)), {
          out,
          force: false,
          log: (l) => lines.push(l),
          boot: { kernel: join(BUILD, 'vmlinuz'), initrd: join(BUILD, 'initrd.img') },
        });
        const again = r.layers.at(-1);
        const first = JSON.parse(await readFile(join(BUILD, 'layers', `${name}.json`), 'utf8')) as { sha256: string };
        expect(again?.sha256, name).toBe(first.sha256);
      }
      expect(lines).toContain('recipe debian-jeos: up to date');
      expect(lines.filter((l) => /^recipe (nginx-web|postfix-mail): built in/.test(l))).toHaveLength(2);
    },
    10 * 60_000,
  );

  it(
    'keeps in each appliance layer only what its recipe changed',
    async () => {
      const os = await entries(layer('debian-jeos'));
      const osSize = (await stat(layer('debian-jeos'))).size;
      for (const name of ['nginx-web', 'postfix-mail']) {
        const app = await entries(layer(name));
        const size = (await stat(layer(name))).size;
        expect(size / osSize, `${name} size against the OS layer`).toBeLessThan(name === 'nginx-web' ? 0.15 : 0.6);
        // Files the recipe did not touch stay in the OS layer only.
        for (const p of [
          '/usr/bin/bash',
          '/usr/bin/dpkg',
          '/usr/lib/x86_64-linux-gnu/libc.so.6',
          '/usr/sbin/storm-agent',
          '/usr/lib/storm/rcS',
          '/etc/storm/layers/debian-jeos',
        ]) {
          expect(os.has(p), p).toBe(true);
          expect(app.has(p), `${name} ${p}`).toBe(false);
        }
        // A regular file in both layers is one a step wrote: its bytes differ, except the empty lock
        // and password files dpkg and debconf open for writing on every run (docs/recipes.md).
        const both = [...app].filter(([p, e]) => e.type === '-' && os.get(p)?.type === '-').map(([p]) => p);
        expect(both, `${name}: files changed in place`).toEqual(expect.arrayContaining(['/var/lib/dpkg/status', '/etc/ld.so.cache']));
        for (const p of both) {
          if (/\/(lock|lock-frontend|Lock|\.pwd\.lock|passwords\.dat)$/.test(p)) expect(app.get(p)?.size, `${name} ${p}`).toBe('0');
          else expect(await fileSha(layer(name), p), `${name} ${p}`).not.toBe(await fileSha(layer('debian-jeos'), p));
        }
        // Nothing the build leaves behind.
        for (const p of app.keys())
          expect(p, name).not.toMatch(
            /^\/(var\/log\/.+\.log|var\/cache\/apt\/.+\.bin|var\/lib\/apt\/lists\/.+_Packages.*|run\/.+|tmp\/.+)$/,
          );
      }
      expect((await entries(layer('nginx-web'))).get('/etc/motd')).toEqual({ type: 'c', size: '0,0' });
    },
    5 * 60_000,
  );

  it(
    'boots debian-jeos + nginx-web: the page by name, deletions gone, clean power-off',
    async () => {
      const port = await freePort();
      const inst = await instanceLayer(dir, 'web1', {
        '/etc/storm/instance.json': { body: JSON.stringify({ id: 'i-web1', name: 'web1' }), mode: 0o644 },
        // What the guest agent writes from storm.getConfig; without a manager it is skipped and this stays.
        '/etc/storm/config.env': {
          body: "STORM_PARAM_SERVERNAME='www.example.test'\nSTORM_INSTANCE_FQDN='web1.storm.internal'\n",
          mode: 0o644,
        },
        '/etc/storm/services.d/99-check': { body: CHECK_SERVICE, mode: 0o755 },
      });
      const g = boot(
        [
          { file: layer('debian-jeos'), format: 'raw', readonly: true },
          { file: layer('nginx-web'), format: 'raw', readonly: true },
          { file: inst, format: 'qcow2', readonly: false },
        ],
        port,
      );
      try {
        await g.waitFor(/^STORM-INIT: root ready layers=3$/, BOOT_MS);
        await g.waitFor(/^STORM-OS: layers present: debian-jeos nginx-web$/, BOOT_MS);
        await g.waitFor(/^nginx-web: nginx serving www\.example\.test web1\.storm\.internal web1 on :80$/, BOOT_MS);
        await g.waitFor(/^STORM-OS: ready$/, BOOT_MS);
        const text = g.lines.map((l) => l.text).join('\n');
        expect(text).toContain('CHECK: /etc/motd gone');
        expect(text).toContain('CHECK: /etc/nginx/sites-enabled/default gone');
        expect(text).toContain('CHECK: /var/www/html gone');
        expect(text).not.toMatch(/STORM-OS: warning (?!no guest agent)/);
        for (const name of ['www.example.test', 'web1.storm.internal']) {
          const page = await getByName(port, name);
          expect(page.status, name).toBe(200);
          expect(page.body).toContain('Hello from nginx-web');
        }
        expect(await getByName(port, 'elsewhere.example')).toEqual({
          status: 404,
          body: 'nginx-web: no site named elsewhere.example here\n',
        });
        await g.powerdown();
        expect(await g.waitExit(90_000)).toBeDefined();
        expect(g.lines.some((l) => l.text === 'STORM-OS: writable layer vdc read-only')).toBe(true);
      } catch (err) {
        console.log(g.console());
        throw err;
      } finally {
        g.kill();
      }
      expect(await instanceFile(dir, inst, '/var/lib/storm/boot-stamp')).toMatch(/^count=1$/m);
      expect(await instanceFile(dir, inst, '/var/log/nginx/access.log')).toContain('"GET / HTTP/1.1" 200');
    },
    6 * 60_000,
  );

  it(
    'boots debian-jeos + postfix-mail: smtpd up with its LDAP table from the directory seed',
    async () => {
      const inst = await instanceLayer(dir, 'mx1', {
        '/etc/storm/instance.json': { body: JSON.stringify({ id: 'i-mx1', name: 'mx1' }), mode: 0o644 },
        '/etc/storm/config.env': { body: "STORM_INSTANCE_FQDN='mx1.storm.internal'\nSTORM_SERVICE_DOMAIN='storm.internal'\n", mode: 0o644 },
        '/etc/storm/ldap.json': {
          body: JSON.stringify({
            uri: 'ldap://storm.local:389',
            base: 'dc=storm,dc=internal',
            people: 'ou=people,dc=storm,dc=internal',
            groups: 'ou=groups,dc=storm,dc=internal',
            bindDn: 'cn=mx1,ou=services,dc=storm,dc=internal',
            bindPassword: 'not-a-secret',
          }),
          mode: 0o600,
        },
        '/etc/storm/services.d/99-check': { body: CHECK_SERVICE, mode: 0o755 },
      });
      const g = boot([
        { file: layer('debian-jeos'), format: 'raw', readonly: true },
        { file: layer('postfix-mail'), format: 'raw', readonly: true },
        { file: inst, format: 'qcow2', readonly: false },
      ]);
      try {
        await g.waitFor(/^STORM-OS: layers present: debian-jeos postfix-mail$/, BOOT_MS);
        await g.waitFor(/^postfix-mail: smtpd listening on :25 for mx1\.storm\.internal$/, BOOT_MS);
        await g.waitFor(/^STORM-OS: ready$/, BOOT_MS);
        const text = g.lines.map((l) => l.text).join('\n');
        expect(text).toContain('CHECK: maps ldap:/run/postfix-mail/ldap-users.cf domains mx1.storm.internal');
        expect(text).toContain(
          'CHECK: ldap server_host = ldap://storm.local:389;search_base = ou=people,dc=storm,dc=internal;bind_dn = cn=mx1,ou=services,dc=storm,dc=internal;',
        );
        expect(text).toContain('CHECK: smtp 220 mx1.storm.internal ESMTP postfix-mail');
        expect(text).toContain('CHECK: /etc/ssl/private/ssl-cert-snakeoil.key gone');
        await g.powerdown();
        expect(await g.waitExit(90_000)).toBeDefined();
        expect(g.lines.some((l) => l.text === 'STORM-OS: writable layer vdc read-only')).toBe(true);
      } catch (err) {
        console.log(g.console());
        throw err;
      } finally {
        g.kill();
      }
      expect(await instanceFile(dir, inst, '/var/log/postfix.log')).toMatch(/postfix\/master\[\d+\]: daemon started/);
    },
    6 * 60_000,
  );
});
