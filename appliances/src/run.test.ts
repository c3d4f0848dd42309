import { describe, expect, it } from 'vitest';
import { ApplErr } from './errors.js';
import { run, runBuffer } from './run.js';

describe('run', () => {
  it('returns stdout and stderr of a successful command', async () => {
    const r = await run('sh', ['-c', 'echo out; echo err >&2']);
    expect(r.stdout).toBe('out\n');
    expect(r.stderr).toBe('err\n');
  });

  it('throws APPL_ERR_COMMAND with the exit code and stderr', async () => {
    const err = await run('sh', ['-c', 'echo broken pipe dream >&2; exit 3']).catch((e: unknown) => e);
    expect(ApplErr.APPL_ERR_COMMAND.is(err)).toBe(true);
    expect((err as Error).message).toMatch(/exit 3.*broken pipe dream/s);
  });

  it('throws APPL_ERR_COMMAND when the command does not exist', async () => {
    const err = await run('/nonexistent/tool', []).catch((e: unknown) => e);
    expect(ApplErr.APPL_ERR_COMMAND.is(err)).toBe(true);
  });

  it('keeps binary stdout intact', async () => {
    const r = await runBuffer('printf', ['\\000\\377']);
    expect([...r.stdout]).toEqual([0, 255]);
  });
});
