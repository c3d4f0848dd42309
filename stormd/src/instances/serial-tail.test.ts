import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateSerialLog } from './serial-tail.js';

describe('rotateSerialLog', () => {
  it('keeps a small log and moves a big one aside, one generation', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'storm-console-'));
    try {
      const log = join(dir, 'console.log');
      await rotateSerialLog(log, 10); // no log yet: nothing to do
      await writeFile(log, 'short');
      await rotateSerialLog(log, 10);
      expect(await readdir(dir)).toEqual(['console.log']);
      await writeFile(log, 'longer than ten bytes');
      await rotateSerialLog(log, 10);
      expect((await readdir(dir)).sort()).toEqual(['console.log.1']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
