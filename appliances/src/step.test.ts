import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintOf, runStep, type Step } from './step.js';

describe('runStep', () => {
  let dir: string;
  let lines: string[];
  let builds: number;
  let inputs: string;
  const step = (): Step => ({
    name: 'thing',
    outputs: [join(dir, 'out.txt')],
    fingerprint: async () => fingerprintOf({ inputs }),
    build: async () => {
      builds++;
      await writeFile(join(dir, 'out.txt'), inputs);
      return '';
    },
  });
  const ctx = (force = false) => ({ stampDir: join(dir, '.stamps'), force, log: (l: string) => lines.push(l) });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'step-test-'));
    lines = [];
    builds = 0;
    inputs = 'a';
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('builds once, then skips while inputs and outputs are unchanged', async () => {
    expect(await runStep(step(), ctx())).toBe('built');
    expect(await runStep(step(), ctx())).toBe('fresh');
    expect(builds).toBe(1);
    expect(lines[0]).toMatch(/^thing: built in \d+\.\ds$/);
    expect(lines[1]).toBe('thing: up to date');
  });

  it('rebuilds when the inputs change, an output is gone, or when forced', async () => {
    await runStep(step(), ctx());
    inputs = 'b';
    expect(await runStep(step(), ctx())).toBe('built');
    await rm(join(dir, 'out.txt'));
    expect(await runStep(step(), ctx())).toBe('built');
    expect(await runStep(step(), ctx(true))).toBe('built');
    expect(builds).toBe(4);
  });
});
