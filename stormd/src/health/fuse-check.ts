/**
 * The `fuse` check: stormd reads guest filesystems through fuse2fs running as nobody
 * (`instances/guest-fs.ts`), which opens /dev/fuse read-write as that account. Where no udev gave
 * the device Debian's 0666 it is root's alone, and every merge, package and file injection fails.
 *
 * @example
 * await fuseCheck(); // { name: 'fuse', status: 'ok', message: 'nobody opens /dev/fuse (crw-rw-rw- root:root)' }
 * const each = new RememberedFuseCheck(); await each.run(); // the same, spawning again only when the device changed
 */
import { stat } from 'node:fs/promises';
import type { HealthCheck } from '../../protocol.js';
import { FS_READER } from '../instances/guest-fs.js';
import { describe } from './access-checks.js';
import { openAs } from './open-as.js';

export interface FuseCheckOptions {
  readonly device?: string;
  /** stormd's uid: acting as nobody needs root. */
  readonly uid?: number;
}

export async function fuseCheck(opts: FuseCheckOptions = {}): Promise<HealthCheck> {
  const device = opts.device ?? '/dev/fuse';
  if ((opts.uid ?? process.getuid?.() ?? 0) !== 0)
    return { name: 'fuse', status: 'skip', message: 'stormd does not run as root: it cannot act as nobody to check' };
  const [result] = await openAs({ ...FS_READER, groups: [FS_READER.gid] }, [{ path: device, write: true }]);
  if (result?.ok) return { name: 'fuse', status: 'ok', message: `nobody opens ${device} (${await describe(device)})` };
  return {
    name: 'fuse',
    status: 'fail',
    message: `nobody cannot open ${device} (${result?.code ?? 'refused'}; ${await describe(device)}): fuse2fs cannot read guest filesystems, so merges, packages and file injections fail`,
    fix: `give ${device} Debian's mode, as its udev rule does: chmod 0666 ${device} (apt-get install fuse3 if it is absent)`,
  };
}

/** The device's identity, owner and mode: chmod and chown change its ctime too. */
async function deviceKey(device: string): Promise<string> {
  const s = await stat(device).catch(() => undefined);
  return s ? `${s.dev}:${s.ino}:${s.mode}:${s.uid}:${s.gid}:${s.ctimeMs}` : 'absent';
}

/**
 * The check as each heartbeat runs it: a pass is remembered until the device's mode, owner or node
 * changes, so a healthy host spawns no process as nobody per beat; a failure is checked again each time.
 */
export class RememberedFuseCheck {
  private passed: { key: string; result: HealthCheck } | undefined;

  constructor(
    private readonly opts: FuseCheckOptions = {},
    private readonly check: (opts: FuseCheckOptions) => Promise<HealthCheck> = fuseCheck,
  ) {}

  async run(): Promise<HealthCheck> {
    const key = await deviceKey(this.opts.device ?? '/dev/fuse');
    if (this.passed?.key === key) return this.passed.result;
    const result = await this.check(this.opts);
    this.passed = result.status === 'ok' ? { key, result } : undefined;
    return result;
  }
}
