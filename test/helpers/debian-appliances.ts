/**
 * `npm run build:appliances -- --debian`, as the suites that need the Debian appliances run it first:
 * minutes on a fresh checkout, seconds when cached. A failure carries the build's own output.
 *
 * @example
 * await buildDebianAppliances(); // then appliances/build/channel carries nginx-web, postfix-mail, …
 */
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, '../..');

export async function buildDebianAppliances(): Promise<void> {
  await run(process.execPath, ['--import', 'tsx', join(ROOT, 'appliances/src/build-cli.ts'), '--debian'], {
    cwd: ROOT,
    maxBuffer: 64 << 20,
  }).catch((err: { stdout?: string; stderr?: string }) => {
    throw new Error(`build:appliances --debian failed:\n${err.stdout ?? ''}\n${err.stderr ?? ''}`);
  });
}
