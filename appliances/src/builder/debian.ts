/**
 * `npm run build:appliances -- --debian`: the Debian substrate and its appliances, built from
 * their recipes into the same output as the busybox samples (`layers/debian-jeos.squashfs`,
 * `nginx-web.squashfs`, `postfix-mail.squashfs`, `ssh-kerberos.squashfs`, `storm-manager.squashfs`), booted by the kernel
 * and initrd built there, each layer skipped when its inputs are unchanged.
 *
 * @example
 * const r = await buildDebianAppliances({ out: 'appliances/build', force: false, log: console.log });
 * r.manifests; // [.../channel-src/nginx-web-1.0.0/manifest.json, .../postfix-mail-1.0.0/manifest.json]
 */
import { join } from 'node:path';
import { APPLIANCES_DIR } from '../layers.js';
import { buildRecipeStack } from './build-stack.js';
import type { StackLayer } from './channel-src.js';
import { MANAGER_BUNDLE, stageManagerBundle } from './manager-bundle.js';
import { loadRecipe } from './recipe.js';

/** The recipes `--debian` builds (their stacks: debian-jeos beneath each). */
export const DEBIAN_RECIPES = ['recipes/nginx-web', 'recipes/postfix-mail', 'recipes/ssh-kerberos', 'recipes/storm-manager'] as const;
/** Recipes whose payload is staged from this checkout first (the compiled manager, manager-bundle.ts). */
const STAGED: Record<string, () => Promise<unknown>> = {
  'recipes/storm-manager': () => stageManagerBundle(join(APPLIANCES_DIR, '..'), MANAGER_BUNDLE),
};

export interface DebianBuildOptions {
  readonly out: string;
  readonly force: boolean;
  readonly log: (line: string) => void;
}

export interface DebianBuildResult {
  /** Every layer once, bottom first: debian-jeos, nginx-web, postfix-mail, ssh-kerberos, storm-manager. */
  readonly layers: readonly StackLayer[];
  /** The channel manifests of the appliances, for the sample channel. */
  readonly manifests: readonly string[];
  readonly built: number;
  readonly fresh: number;
}

export async function buildDebianAppliances(opts: DebianBuildOptions): Promise<DebianBuildResult> {
  const memo = new Map<string, StackLayer>();
  const boot = { kernel: join(opts.out, 'vmlinuz'), initrd: join(opts.out, 'initrd.img') };
  const manifests: string[] = [];
  let built = 0;
  let fresh = 0;
  for (const rel of DEBIAN_RECIPES) {
    await STAGED[rel]?.();
    const r = await buildRecipeStack(await loadRecipe(join(APPLIANCES_DIR, rel)), {
      out: opts.out,
      boot,
      force: opts.force,
      log: opts.log,
      memo,
    });
    built += r.built;
    fresh += r.fresh;
    const top = r.channelDirs.at(-1);
    if (top) manifests.push(join(top, 'manifest.json'));
  }
  return { layers: [...memo.values()], manifests, built, fresh };
}
