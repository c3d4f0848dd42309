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

/**
 * Only the storm-manager stack (debian-jeos beneath it), as `--debian` builds it (the manager bundle
 * packed first), under the build lock: the manager-appliance suite needs nothing else, and skips the
 * minutes of debootstrap debian-cloud would cost. Needs `npm run build:appliances` (the STORM kernel
 * and initrd) and `npm run build` (dist/, which the bundle carries) first.
 */
export async function buildManagerAppliance(): Promise<void> {
  const { stageManagerBundle, MANAGER_BUNDLE } = await import('../../appliances/src/builder/manager-bundle.js');
  const { buildRecipeStack } = await import('../../appliances/src/builder/build-stack.js');
  const { loadRecipe } = await import('../../appliances/src/builder/recipe.js');
  const { withBuildLock } = await import('../../appliances/src/lock.js');
  const out = join(ROOT, 'appliances/build');
  const log: string[] = [];
  await withBuildLock(
    out,
    async () => {
      await stageManagerBundle(ROOT, MANAGER_BUNDLE);
      await buildRecipeStack(await loadRecipe(join(ROOT, 'appliances/recipes/storm-manager')), {
        out,
        boot: { kernel: join(out, 'vmlinuz'), initrd: join(out, 'initrd.img') },
        force: false,
        log: (line) => log.push(line),
      });
    },
    (line) => log.push(line),
  ).catch((err: Error) => {
    throw new Error(`building storm-manager failed: ${err.message}\n${log.join('\n')}`);
  });
}
