/** The namespace harness's cleanup: it also kills, by pid, what forked away from the processes it started. */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { createNetns, netnsAvailable, pidsInside } from './netns.js';

describe.skipIf(!netnsAvailable())('createNetns cleanup', () => {
  it('kills a daemon that left its parent, and only what is inside', async () => {
    const net = await createNetns();
    // The shell exits at once; its `sleep` is reparented away from anything the harness holds.
    const r = await net.exec(net.name, 'sh', ['-c', 'sleep 300 >/dev/null 2>&1 & echo $!']);
    const daemon = Number(r.output.trim());
    expect(await pidsInside(net.name)).toEqual([daemon]);
    expect(await pidsInside('storm-no-such-namespace')).toEqual([]);
    await net.cleanup();
    // Dead: gone, or a zombie until init reaps it.
    const state = await readFile(`/proc/${daemon}/stat`, 'utf8').then(
      (s) => s.split(') ')[1]?.[0],
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });
});
