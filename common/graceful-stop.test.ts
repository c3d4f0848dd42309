import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const FIXTURE = fileURLToPath(new URL('./test-support/graceful-stop-fixture.ts', import.meta.url));

/** Runs the fixture, sends `signal` once its output matches `when`, and returns its output and exit. */
function run(
  when: RegExp,
  env: Record<string, string> = {},
  signal: NodeJS.Signals = 'SIGTERM',
): Promise<{ code: number | null; signal: string | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    let sent = false;
    child.stdout.on('data', (b: Buffer) => {
      out += b.toString();
      if (!sent && when.test(out)) {
        sent = true;
        child.kill(signal);
      }
    });
    child.on('error', reject);
    child.on('exit', (code, sig) => resolve({ code, signal: sig, lines: out.split('\n').filter(Boolean) }));
  });
}

describe('GracefulStop', () => {
  it('a signal during a start-up step lets the step finish, closes what started, exits 0', async () => {
    const r = await run(/step two begins/);
    expect(r).toMatchObject({ code: 0, signal: null });
    // The step ran to its end (its closer ran) but nothing after it did.
    expect(r.lines).not.toContain('step two done');
    expect(r.lines).not.toContain('step three begins');
    expect(r.lines.filter((l) => l.startsWith('closed'))).toEqual(['closed two', 'closed one']);
  });

  it('a signal after start-up closes everything newest first, exits 0', async () => {
    const r = await run(/started/, {}, 'SIGINT');
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.lines.filter((l) => l.startsWith('closed'))).toEqual(['closed three', 'closed two', 'closed one']);
  });

  it('a step that hangs past the grace time is given up on, still exit 0', async () => {
    const r = await run(/step one begins/, { STEP_MS: '20000', GRACE_MS: '300' });
    expect(r).toMatchObject({ code: 0, signal: null });
    expect(r.lines.some((l) => l.includes('stopping anyway'))).toBe(true);
  });
});
