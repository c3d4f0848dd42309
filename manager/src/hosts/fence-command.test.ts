import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFence } from './fence-command.js';

const host = { id: 'host-1', name: 'vm2', url: 'https://127.0.0.1:9443' };
const dir = await mkdtemp(join(tmpdir(), 'storm-fence-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('a fence command', () => {
  it('runs its argv without a shell, with the host in its environment', async () => {
    const out = join(dir, 'seen');
    const run = await runFence(
      {
        argv: ['sh', '-c', 'printf "%s %s %s" "$STORM_HOST_ID" "$STORM_HOST_NAME" "$1" > "$0"; echo powered off', out, '$(no)'],
        timeoutSeconds: 10,
      },
      host,
    );
    expect(run).toMatchObject({ exitCode: 0, output: 'powered off\n', timedOut: false });
    // `$(no)` reached it as a word: nothing of ours parsed the argv.
    expect(await readFile(out, 'utf8')).toBe('host-1 vm2 $(no)');
  });

  it('fails with its exit code and output', async () => {
    const run = await runFence({ argv: ['sh', '-c', 'echo "BMC 10.0.0.9 refused" >&2; exit 3'], timeoutSeconds: 10 }, host);
    expect(run).toMatchObject({ exitCode: 3, output: 'BMC 10.0.0.9 refused\n', timedOut: false });
  });

  it('is killed with what it started when it outlives its timeout', async () => {
    const pidFile = join(dir, 'child.pid');
    const started = Date.now();
    const run = await runFence({ argv: ['sh', '-c', `sleep 60 & echo $! > ${pidFile}; echo waiting; wait`], timeoutSeconds: 1 }, host);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(run).toMatchObject({ exitCode: -1, timedOut: true });
    expect(run.output).toBe('waiting\n\n(killed after 1 s)');
    const child = Number(await readFile(pidFile, 'utf8'));
    // The shell's own child went with the group (gone, or a zombie nobody reaped yet).
    await new Promise((r) => setTimeout(r, 200));
    const state = await readFile(`/proc/${child}/stat`, 'utf8').then(
      (s) => s.slice(s.lastIndexOf(')') + 2, s.lastIndexOf(')') + 3),
      () => 'gone',
    );
    expect(['gone', 'Z']).toContain(state);
  });

  it('says why when it cannot start', async () => {
    const run = await runFence({ argv: [join(dir, 'no-such-fence')], timeoutSeconds: 5 }, host);
    expect(run.exitCode).toBe(-1);
    expect(run.output).toMatch(/ENOENT/);
  });
});
