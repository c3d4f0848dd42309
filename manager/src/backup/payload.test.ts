import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { encodeManifest, type Manifest, MANIFEST_FORMAT, parseManifest, payloadBytes } from './manifest.js';
import { readPayload } from './payload.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const a = Buffer.from('first file');
const b = Buffer.from('second, longer file '.repeat(50));

function manifest(files: Manifest['files']): Manifest {
  return {
    format: MANIFEST_FORMAT,
    createdAt: '2025-01-01T00:00:00.000Z',
    source: { dataDir: '/var/lib/storm/manager', machine: 'm1', url: 'https://m1:8443' },
    schemaVersion: 9,
    ca: { subject: 'O=STORM, CN=STORM CA 00000000', fingerprint: `sha256:${'0'.repeat(64)}`, notAfter: '2035-01-01T00:00:00.000Z' },
    summary: { hosts: 2, instances: 3, channels: 1, packages: 0, apiTokens: 1 },
    files,
    omitted: [{ path: 'images/', reason: 'the layer cache', files: 2, bytes: 100 }],
  };
}

const good = manifest([
  { path: 'storm.db', kind: 'database', mode: 0o600, size: a.length, sha256: sha(a) },
  { path: 'pki/ca.key', kind: 'pki', mode: 0o600, size: b.length, sha256: sha(b) },
]);

async function* split(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function read(plain: Buffer, m: Manifest = good, expected = payloadBytes(m)) {
  const got: Record<string, Buffer> = {};
  const out = await readPayload(split(plain, 7), expected, async (file, bytes) => {
    const parts: Buffer[] = [];
    for await (const p of bytes) parts.push(p);
    got[file.path] = Buffer.concat(parts);
  });
  return { manifest: out, got };
}

describe('the payload', () => {
  it('is the framed manifest, then each file in order; read back whatever the piece sizes', async () => {
    const plain = Buffer.concat([encodeManifest(good), a, b]);
    expect(plain.length).toBe(payloadBytes(good));
    expect(plain.readUInt32BE(0)).toBe(plain.length - 4 - a.length - b.length);
    const { manifest: m, got } = await read(plain);
    expect(m).toEqual(good);
    expect(got).toEqual({ 'storm.db': a, 'pki/ca.key': b });
  });

  it('checks each file against its sha256 and refuses bytes past the last file or a length that does not add up', async () => {
    const wrong = Buffer.from(b);
    wrong[3] = wrong[3]! ^ 1;
    await expect(read(Buffer.concat([encodeManifest(good), a, wrong]))).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_DAMAGED',
      message: expect.stringMatching(/pki\/ca.key does not match its sha256/),
    });
    await expect(read(Buffer.concat([encodeManifest(good), a, b, Buffer.from('x')]), good, payloadBytes(good) + 1)).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_FORMAT',
    });
    await expect(read(Buffer.concat([encodeManifest(good), a, b.subarray(1)]), good, payloadBytes(good))).rejects.toMatchObject({
      code: 'MGR_ERR_BACKUP_DAMAGED',
      message: expect.stringMatching(/ends inside pki\/ca.key/),
    });
  });

  it('still verifies files a sink does not read', async () => {
    const wrong = Buffer.from(a);
    wrong[0] = wrong[0]! ^ 1;
    await expect(
      readPayload(split(Buffer.concat([encodeManifest(good), wrong, b]), 64), payloadBytes(good), async () => undefined),
    ).rejects.toMatchObject({ message: expect.stringMatching(/storm.db does not match/) });
  });

  it('refuses manifests naming a path outside the folder, a path twice, or a file inside another', () => {
    const json = (m: unknown) => Buffer.from(JSON.stringify(m));
    const withPath = (path: string) => manifest([{ path, kind: 'pki', mode: 0o600, size: 0, sha256: sha(Buffer.alloc(0)) }]);
    for (const path of ['../etc/passwd', '/etc/passwd', 'pki/../../x', 'pki/./ca.key', '.', 'a//b', 'pki/', '']) {
      expect(() => parseManifest(json(withPath(path))), path).toThrow(/manifest \/files\/0\/path/);
    }
    expect(parseManifest(json(withPath('local-channel/publisher.key'))).files[0]!.path).toBe('local-channel/publisher.key');
    const f = good.files[0]!;
    expect(() => parseManifest(json(manifest([f, f])))).toThrow(/names storm.db twice/);
    expect(() => parseManifest(json(manifest([f, { ...f, path: 'storm.db/x' }])))).toThrow(/inside the file storm.db/);
    expect(() => parseManifest(json({ ...good, extra: 1 }))).toThrow(/MGR_ERR_BACKUP_FORMAT|manifest/);
    expect(() => parseManifest(Buffer.from('{'))).toThrow(/not JSON/);
  });
});
