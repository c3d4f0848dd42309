/** The test terminal: exit status and output per line, no line eats the next, background jobs end with it. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNetns, type Netns, netnsAvailable, pidsInside } from './netns.js';
import { type ShellSession, startShellSession } from './shell-session.js';

describe.skipIf(!netnsAvailable())('startShellSession', () => {
  let net: Netns;
  let sh: ShellSession;
  beforeAll(async () => {
    net = await createNetns();
    sh = startShellSession(net, { cwd: '/', env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin' } });
  });
  afterAll(async () => {
    await sh?.close();
    await net?.cleanup();
  });

  it('runs lines as written in one shell inside the namespace, each with its status and output', async () => {
    expect(await sh.run('X=kept; echo "out $X"; echo err >&2   # a comment')).toEqual({ code: 0, output: 'out kept\nerr\n' });
    expect(await sh.run('echo "$X" && false')).toEqual({ code: 1, output: 'kept\n' });
    // stdin is /dev/null: `cat` ends at once instead of reading the next lines.
    expect(await sh.run('cat; printf no-newline')).toEqual({ code: 0, output: 'no-newline' });
    expect((await sh.run('readlink /proc/self/ns/net')).output).toBe((await net.exec(net.name, 'readlink', ['/proc/self/ns/net'])).output);
  });

  it('gives a background job’s pid and stops it on close', async () => {
    const job = await sh.run('sleep 300 &   # a job & a comment');
    expect(job).toMatchObject({ code: 0, background: expect.any(Number) });
    expect(await pidsInside(net.name)).toContain(job.background);
    expect((await sh.run('true')).background).toBeUndefined();
    await sh.close();
    for (let i = 0; i < 50 && (await pidsInside(net.name)).includes(job.background!); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await pidsInside(net.name)).toEqual([]);
  });
});
