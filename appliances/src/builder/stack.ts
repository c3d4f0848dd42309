/**
 * One action inside a build stack: the lower layers read-only, the layer being built as the overlay
 * upper directory, the action run chrooted in the union. Each call assembles the stack in a fresh
 * private namespace (see stack-script.ts), so nothing stays mounted or running after it returns,
 * whether the action succeeded, failed or timed out.
 *
 * @example
 * await runInStack({ dir: work, lowers: [osImage], upper, epoch, busybox: '/bin/busybox', logFile },
 *   { label: 'nginx-web step 2 (run)', shell: 'layer', script: 'set -e\nnginx -t\n' });
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ApplErr } from '../errors.js';
import { runLogged } from './logged-run.js';
import { STACK_SCRIPT, UNSHARE_ARGS } from './stack-script.js';

export interface StackSpec {
  /** Scratch folder for this layer's build: the union root, lower mounts, overlay work dir. */
  readonly dir: string;
  /** squashfs images beneath, bottom → top; empty when the upper is a whole root (an OS). */
  readonly lowers: readonly string[];
  /** The layer being built. */
  readonly upper: string;
  readonly epoch: number;
  /** A static busybox for actions that must not rely on the layer's tools. */
  readonly busybox: string;
  /** Host folders bound over apt's package and list caches. */
  readonly aptCache?: { readonly archives: string; readonly lists: string };
  readonly logFile: string;
  /** Run the stack inside this network namespace (`ip netns exec`), e.g. a test's; default the host's. */
  readonly netns?: string;
}

export interface StackAction {
  readonly label: string;
  /** `layer`: the union's /bin/sh runs the script; `busybox`: the static busybox does. */
  readonly shell: 'layer' | 'busybox';
  readonly script: string;
  /** A host folder the script sees read-only at /run/storm-build/src. */
  readonly src?: string;
  readonly timeoutMs?: number;
}

export const BUILD_HOSTNAME = 'storm-build';
const DEFAULT_TIMEOUT_MS = 30 * 60_000;

/** Paths end up in overlayfs options and here-documents: keep them plain. */
export function assertPlainPath(path: string): void {
  if (!/^\/[A-Za-z0-9._+@%=~/-]*$/.test(path))
    throw ApplErr.APPL_ERR_STACK(`unusable path for a build stack (spaces, commas or colons): ${path}`);
}

export async function runInStack(spec: StackSpec, action: StackAction): Promise<void> {
  for (const p of [spec.dir, spec.upper, ...spec.lowers]) assertPlainPath(p);
  const actionFile = join(spec.dir, 'action.sh');
  await writeFile(actionFile, action.script);
  const env: NodeJS.ProcessEnv = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    STACK_DIR: spec.dir,
    STACK_LOWERS: spec.lowers.join('\n'),
    STACK_UPPER: spec.upper,
    STACK_WORK: join(spec.dir, 'work'),
    STACK_HOSTNAME: BUILD_HOSTNAME,
    STACK_BUSYBOX: spec.busybox,
    STACK_ACTION: actionFile,
    STACK_SHELL: action.shell,
    STACK_SRC: action.src ?? '',
    STACK_APT_ARCHIVES: spec.aptCache?.archives ?? '',
    STACK_APT_LISTS: spec.aptCache?.lists ?? '',
    STACK_EPOCH: String(spec.epoch),
    // The layer's own tools may need the network; busybox copies and deletes never do.
    STACK_NET: action.shell === 'layer' ? '1' : '',
  };
  const unshare = ['unshare', ...UNSHARE_ARGS, '--', '/bin/sh', '-c', STACK_SCRIPT, 'storm-stack'];
  const [cmd = 'unshare', ...args] = spec.netns ? ['ip', 'netns', 'exec', spec.netns, ...unshare] : unshare;
  await runLogged(cmd, args, {
    logFile: spec.logFile,
    timeoutMs: action.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    label: action.label,
    env,
  });
}

/** Mount points at or under `dir` in this (the host's) mount namespace: none, after any build. */
export async function mountsUnder(dir: string): Promise<string[]> {
  const info = await readFile('/proc/self/mountinfo', 'utf8');
  // Field 5 is the mount point, with spaces and the like octal-escaped.
  const points = info
    .split('\n')
    .map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8))));
  return points.filter((p) => p === dir || p.startsWith(`${dir}/`));
}
