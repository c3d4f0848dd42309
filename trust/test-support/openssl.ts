/** Test support: run the openssl CLI on PEM strings written to a temporary folder. */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * `files` are written as `<name>`; `{name}` in args is replaced by its path. Resolves with stdout+stderr
 * and the exit code (openssl's non-zero exits are results here, not exceptions).
 */
export async function openssl(args: readonly string[], files: Readonly<Record<string, string>>): Promise<{ code: number; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'storm-openssl-'));
  try {
    for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
    const resolved = args.map((a) => a.replace(/\{([^}]+)\}/g, (_, name: string) => join(dir, name)));
    try {
      const { stdout, stderr } = await run('openssl', resolved);
      return { code: 0, output: stdout + stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      return { code: typeof e.code === 'number' ? e.code : -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
