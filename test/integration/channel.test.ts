/**
 * Publisher to subscriber, with real parts: `storm-channel keygen` and `build` (the CLI, through
 * tsx) on the fixture source, the signature checked by `openssl pkeyutl`, layers checked by
 * `unsquashfs`, a second build compared byte for byte, then the channel served over HTTP and read
 * back as the manager will: signature, feed, descriptors, layers fetched with Range and If-Range.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import Parser from 'rss-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildChannel } from '../../channels/src/build/build.js';
import {
  parseDescriptor,
  parseFeed,
  verifyFeedSignature,
  type ApplianceDescriptor,
  type ChannelFeed,
  type FileRef,
} from '../../channels/src/format/index.js';
import { type ChannelServer, type RequestLogEntry, startChannelServer } from '../../channels/src/serve/server.js';
import { startProcess, stopAllProcesses } from '../helpers/process.js';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');
const FIXTURE = join(ROOT, 'test/fixtures/channel-src');
const CLI = ['--import', 'tsx', join(ROOT, 'channels/src/main.ts')];
const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** Runs the CLI to completion; resolves with its exit code and output. */
async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [...CLI, ...args], { cwd: ROOT });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

async function tree(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out.set(relative(dir, p), sha256(await readFile(p)));
    }
  }
  return new Map([...out].sort());
}

describe('storm-channel, publisher to subscriber', () => {
  let work: string;
  let keyDir: string;
  let out: string;
  let srv: ChannelServer;
  const seen: RequestLogEntry[] = [];

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'chan-it-'));
    keyDir = join(work, 'keys');
    out = join(work, 'channel');
    await mkdir(out);
    // Serve first, so the channel can be built for the URL it is served at.
    srv = await startChannelServer({ dir: out, port: 0, onRequest: (e) => seen.push(e) });
  });
  afterAll(async () => {
    await stopAllProcesses();
    await srv?.close();
    await rm(work, { recursive: true, force: true });
  });

  it('keygen writes a 0600 private key and refuses to overwrite it', async () => {
    const r = await cli('keygen', '--out', keyDir);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/fingerprint: sha256:[0-9a-f]{64}/);
    expect((await stat(join(keyDir, 'publisher.key'))).mode & 0o777).toBe(0o600);
    const again = await cli('keygen', '--out', keyDir);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/CHAN_ERR_KEY_EXISTS/);
  });

  it('build writes the channel with progress per step; openssl verifies the signature', async () => {
    const r = await cli('build', FIXTURE, '--out', out, '--base-url', srv.url, '--key', join(keyDir, 'publisher.key'));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/\[hello-web 1\.1\.0\] layer 3\/3 deployment: squashfs of .*deploy → layers\/[0-9a-f]{64}\.squashfs/);
    expect(r.stdout).toMatch(/\[mail-relay 0\.1\.0\] layer 1\/2 os: layers\/[0-9a-f]{64}\.squashfs \(shared\)/);
    expect(r.stdout).toMatch(/built 3 appliance versions, 7 layer and boot files/);

    const verify = [
      'pkeyutl',
      '-verify',
      '-pubin',
      '-inkey',
      join(keyDir, 'publisher.pub'),
      '-rawin',
      '-in',
      join(out, 'channel.xml'),
      '-sigfile',
      join(out, 'channel.xml.sig'),
    ];
    const ok = await run('openssl', verify);
    expect(ok.stdout).toContain('Signature Verified Successfully');
    // One changed byte and openssl says no.
    const tampered = join(work, 'tampered.xml');
    const bytes = await readFile(join(out, 'channel.xml'));
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 2) ^ 0x01, bytes.length - 2);
    await writeFile(tampered, bytes);
    await expect(
      run(
        'openssl',
        verify.map((a) => (a === join(out, 'channel.xml') ? tampered : a)),
      ),
    ).rejects.toThrow();
  });

  it('stores the shared OS layer once and makes real squashfs images', async () => {
    const layers = await readdir(join(out, 'layers'));
    expect(layers).toHaveLength(5); // os (shared by all three), 3 appliance layers, 1 deployment layer
    expect(await readdir(join(out, 'boot'))).toHaveLength(2);
    const d = parseDescriptor(await readFile(join(out, 'appliances/hello-web/1.1.0/appliance.xml')));
    const appLayer = join(out, 'layers', `${d.layers[1]?.sha256}.squashfs`);
    const { stdout } = await run('unsquashfs', ['-l', appLayer]);
    expect(stdout).toContain('squashfs-root/srv/www/index.html');
  });

  it('builds byte-identical output from the same input and publication time', async () => {
    const second = join(work, 'channel-2');
    const published = /<storm:published>([^<]+)</.exec(await readFile(join(out, 'channel.xml'), 'utf8'))![1]!;
    await buildChannel({ src: FIXTURE, out: second, baseUrl: srv.url, keyPath: join(keyDir, 'publisher.key'), published });
    const [a, b] = [await tree(out), await tree(second)];
    expect([...b.keys()]).toEqual([...a.keys()]);
    expect(b).toEqual(a);
    // Rebuilding in place changes nothing either, and leaves no temp files behind.
    await buildChannel({ src: FIXTURE, out, baseUrl: srv.url, keyPath: join(keyDir, 'publisher.key') });
    expect(await tree(out)).toEqual(a);
  });

  it('is an ordinary RSS feed to rss-parser and to curl', async () => {
    const feed = await new Parser().parseURL(`${srv.url}channel.xml`);
    expect(feed.title).toBe('STORM test channel');
    expect(feed.items.map((i) => i.title)).toEqual(['Hello web 1.1.0', 'Hello web 1.0.0', 'Mail relay 0.1.0']);
    const { stdout } = await run('curl', ['-sS', '-r', '0-37', `${srv.url}channel.xml`]);
    expect(stdout).toBe('<?xml version="1.0" encoding="UTF-8"?>');
    expect(seen.some((e) => e.range === 'bytes=0-37' && e.status === 206)).toBe(true);
  });

  describe('read back over HTTP as a subscriber', () => {
    let feed: ChannelFeed;
    const descriptors: ApplianceDescriptor[] = [];

    it('verifies the signature with the pinned key, then parses the feed', async () => {
      const feedBytes = new Uint8Array(await (await fetch(`${srv.url}channel.xml`)).arrayBuffer());
      const sig = new Uint8Array(await (await fetch(`${srv.url}channel.xml.sig`)).arrayBuffer());
      verifyFeedSignature(feedBytes, sig, await readFile(join(keyDir, 'publisher.pub'), 'utf8'));
      feed = await parseFeed(feedBytes);
      expect(feed.items.map((i) => `${i.name} ${i.version} ${i.upgradesFrom ?? '-'}`)).toEqual([
        'hello-web 1.1.0 1.0.0',
        'hello-web 1.0.0 -',
        'mail-relay 0.1.0 -',
      ]);
    });

    it('answers a revalidation of the feed with 304', async () => {
      const first = await fetch(`${srv.url}channel.xml`);
      const etag = first.headers.get('etag') as string;
      await first.arrayBuffer();
      const again = await fetch(`${srv.url}channel.xml`, { headers: { 'If-None-Match': etag } });
      expect(again.status).toBe(304);
    });

    it('fetches every descriptor and checks it against its signed item', async () => {
      for (const item of feed.items) {
        const bytes = new Uint8Array(await (await fetch(item.descriptor.url)).arrayBuffer());
        descriptors.push(parseDescriptor(bytes, { item }));
      }
      const [web11, , relay] = descriptors;
      expect(web11?.layers.map((l) => l.kind)).toEqual(['os', 'appliance', 'deployment']);
      expect(web11?.config.find((c) => c.key === 'web.url')?.value).toBe('http://{{instance.fqdn}}:{{port}}/');
      expect(relay?.records).toEqual([
        { type: 'MX', name: '@', value: '{{instance.fqdn}}', priority: 10 },
        { type: 'TXT', name: '@', value: 'v=spf1 a -all', ttl: 300 },
      ]);
      expect(relay?.parameters.find((p) => p.name === 'relayHost')?.default).toBeUndefined();
      expect(new Set(descriptors.map((d) => d.layers[0]?.sha256)).size).toBe(1);
    });

    it('downloads each layer in two ranges (a resume, guarded by If-Range) and checks its sha256', async () => {
      const files = new Map<string, FileRef>();
      for (const d of descriptors) {
        for (const l of d.layers) {
          files.set(l.url, l);
          if (l.boot) for (const f of [l.boot.kernel, l.boot.initrd]) files.set(f.url, f);
        }
      }
      expect(files.size).toBe(7);
      for (const f of files.values()) {
        const half = Math.floor(f.size / 2);
        const head = await fetch(f.url, { headers: { Range: `bytes=0-${half - 1}` } });
        expect(head.status).toBe(206);
        const etag = head.headers.get('etag') as string;
        const part1 = new Uint8Array(await head.arrayBuffer());
        const tail = await fetch(f.url, { headers: { Range: `bytes=${half}-`, 'If-Range': etag } });
        expect(tail.status).toBe(206);
        expect(tail.headers.get('content-range')).toBe(`bytes ${half}-${f.size - 1}/${f.size}`);
        const whole = Buffer.concat([part1, new Uint8Array(await tail.arrayBuffer())]);
        expect(whole.byteLength).toBe(f.size);
        expect(sha256(whole)).toBe(f.sha256);
      }
      // What the server saw: the resume requests with their Range and If-Range headers.
      const resumes = seen.filter((e) => e.url.startsWith('/layers/') && e.ifRange !== undefined);
      expect(resumes.length).toBe(5);
      expect(resumes.every((e) => /^bytes=\d+-$/.test(e.range ?? '') && e.status === 206)).toBe(true);
    });

    it('serves the full file when the layer changed under a resume (stale If-Range)', async () => {
      const f = descriptors[0]?.layers[1] as FileRef;
      const r = await fetch(f.url, { headers: { Range: 'bytes=10-', 'If-Range': '"an-old-etag"' } });
      expect(r.status).toBe(200);
      expect(sha256(new Uint8Array(await r.arrayBuffer()))).toBe(f.sha256);
    });
  });

  it('serve (the CLI) logs each request with its status and Range, and stops on SIGTERM with exit 0', async () => {
    const proc = startProcess(process.execPath, [...CLI, 'serve', out, '--port', '0'], { cwd: ROOT });
    const [, url] = await proc.waitForLine(/at (http:\/\/127\.0\.0\.1:\d+\/)/, 30_000);
    const r = await fetch(`${url}channel.xml`, { headers: { Range: 'bytes=0-9' } });
    expect(r.status).toBe(206);
    await r.arrayBuffer();
    await proc.waitForLine(/127\.0\.0\.1 "GET \/channel\.xml" 206 range="bytes=0-9" 10/, 5_000);
    expect(await proc.stop('SIGTERM')).toEqual({ code: 0, signal: null });
  });

  it('build fails with exit 1 and names the file and field of a bad manifest', async () => {
    const src = join(work, 'bad-src');
    await cp(FIXTURE, src, { recursive: true });
    const file = join(src, 'hello-web-1.0.0', 'manifest.json');
    const m = JSON.parse(await readFile(file, 'utf8')) as { layers: { kind: string }[] };
    (m.layers[1] as { kind: string }).kind = 'kernel';
    await writeFile(file, JSON.stringify(m));
    const r = await cli(
      'build',
      src,
      '--out',
      join(work, 'bad-out'),
      '--base-url',
      'http://127.0.0.1:1/',
      '--key',
      join(keyDir, 'publisher.key'),
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`CHAN_ERR_MANIFEST_INVALID`);
    expect(r.stderr).toContain(`${file}: /layers/1/kind: must be one of os, appliance, deployment`);
  });
});
