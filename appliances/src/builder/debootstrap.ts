/**
 * The bottom of an OS recipe: `debootstrap` into the folder that becomes the layer, run in private
 * mount and PID namespaces so the /proc and /sys it mounts in the target cannot outlive it, with
 * downloaded packages kept in a cache folder between builds.
 *
 * @example
 * await runDebootstrap(spec, join(work, 'upper'), { cacheDir, logFile, epoch: 1747699200 });
 */
import { mkdir } from 'node:fs/promises';
import { ApplErr } from '../errors.js';
import { runLogged } from './logged-run.js';
import type { DebootstrapSpec } from './recipe.js';
import { UNSHARE_ARGS } from './stack-script.js';

/** `STORM_DEBIAN_MIRROR` moves every build to another mirror (use the one the host's apt uses). */
export function effectiveMirror(spec: DebootstrapSpec, env: NodeJS.ProcessEnv = process.env): string {
  const m = env['STORM_DEBIAN_MIRROR'];
  return m && /^https?:\/\/[^\s'"]+$/.test(m) ? m : spec.mirror;
}

export function debootstrapArgs(spec: DebootstrapSpec, target: string, cacheDir: string, mirror: string): string[] {
  return [
    `--variant=${spec.variant}`,
    ...(spec.include.length ? [`--include=${spec.include.join(',')}`] : []),
    `--components=${spec.components.join(',')}`,
    `--cache-dir=${cacheDir}`,
    spec.suite,
    target,
    mirror,
  ];
}

export interface DebootstrapOptions {
  readonly cacheDir: string;
  readonly logFile: string;
  readonly epoch: number;
  readonly mirror?: string;
}

export async function runDebootstrap(spec: DebootstrapSpec, target: string, opts: DebootstrapOptions): Promise<void> {
  await mkdir(opts.cacheDir, { recursive: true });
  const mirror = opts.mirror ?? effectiveMirror(spec);
  await runLogged('unshare', [...UNSHARE_ARGS, '--', 'debootstrap', ...debootstrapArgs(spec, target, opts.cacheDir, mirror)], {
    logFile: opts.logFile,
    timeoutMs: 30 * 60_000,
    label: `debootstrap ${spec.suite} (${spec.variant}) from ${mirror}`,
    error: ApplErr.APPL_ERR_DEBOOTSTRAP,
    // Maintainer scripts inside the target see the same fixed clock as later steps.
    env: {
      PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
      LC_ALL: 'C',
      TZ: 'UTC',
      SOURCE_DATE_EPOCH: String(opts.epoch),
      DEBIAN_FRONTEND: 'noninteractive',
    },
  });
}
