import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { StreamHasher } from './stream-hasher.js';

describe('StreamHasher', () => {
  it('matches createHash over a file prefix plus streamed chunks, with back-pressure', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storm-hash-'));
    try {
      const head = randomBytes(300_000);
      const tail = [randomBytes(100_000), randomBytes(1), randomBytes(250_000)];
      await writeFile(join(dir, 'head'), head);
      const hasher = new StreamHasher(128 * 1024);
      expect(await hasher.updateFile(join(dir, 'head'))).toBe(head.length);
      for (const c of tail) await hasher.update(c);
      const expected = createHash('sha256').update(head);
      for (const c of tail) expected.update(c);
      expect(await hasher.digest()).toBe(expected.digest('hex'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hashes nothing to the empty digest and fails cleanly on a missing file', async () => {
    expect(await new StreamHasher().digest()).toBe(createHash('sha256').digest('hex'));
    const h = new StreamHasher();
    await expect(h.updateFile('/nonexistent/storm')).rejects.toThrow(/hash worker/);
    await h.close();
  });
});
