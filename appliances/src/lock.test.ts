import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withBuildLock } from './lock.js';

describe('withBuildLock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lock-test-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('runs one holder at a time and releases the lock', async () => {
    const events: string[] = [];
    const job = (name: string) => () =>
      withBuildLock(
        dir,
        async () => {
          events.push(`${name}+`);
          await new Promise((r) => setTimeout(r, 100));
          events.push(`${name}-`);
        },
        () => undefined,
      );
    await Promise.all([job('a')(), job('b')()]);
    expect(['a+a-b+b-', 'b+b-a+a-']).toContain(events.join(''));
    await expect(readFile(join(dir, '.lock'))).rejects.toThrow();
  });

  it('takes over a lock left by a dead process', async () => {
    await writeFile(join(dir, '.lock'), '999999999\n');
    expect(
      await withBuildLock(
        dir,
        async () => 'ran',
        () => undefined,
        5_000,
      ),
    ).toBe('ran');
  });

  it('gives up after its wait on a live holder', async () => {
    await writeFile(join(dir, '.lock'), `${process.pid}\n`);
    await expect(
      withBuildLock(
        dir,
        async () => 'ran',
        () => undefined,
        300,
      ),
    ).rejects.toThrow(/locked by another build/);
  });
});
