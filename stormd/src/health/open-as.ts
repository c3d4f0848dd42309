/**
 * Opens files (or passes folders) as another account, really: a child node process drops to that
 * uid, gid and groups (what libvirt gives QEMU) and opens each path; for a refusal it finds the
 * first folder on the way that account cannot pass. Needs root; one child per call (about 50 ms).
 *
 * @example
 * const [r] = await openAs({ uid: 64055, gid: 64055, groups: [107, 64055] }, [{ path: '/var/lib/stormd/probe/disk', write: true }]);
 * r.ok || r.blockedAt; // '/root' when /root is 0700
 */
import { execFile } from 'node:child_process';

export interface Account {
  readonly uid: number;
  readonly gid: number;
  readonly groups: readonly number[];
}

export interface OpenTarget {
  readonly path: string;
  /** Open read-write (a disk QEMU writes, /dev/kvm) rather than read-only. */
  readonly write: boolean;
  /** A folder to pass through (search permission, `access(X_OK)`), not a file to open. */
  readonly traverse?: boolean;
}

export interface OpenResult {
  readonly path: string;
  readonly ok: boolean;
  /** errno code of the refusal, e.g. EACCES or ENOENT. */
  readonly code?: string;
  /** The first folder on the way to `path` (for a traversal, `path` itself included) the account cannot traverse, when one is the cause. */
  readonly blockedAt?: string;
}

// Runs in the child: plain JavaScript, no imports of ours, so it needs nothing but node.
const CHILD = `
const fs = require('node:fs');
const path = require('node:path');
const { account, targets } = JSON.parse(process.argv[1]);
process.setgroups(account.groups);
process.setgid(account.gid);
process.setuid(account.uid);
const blockedAt = (p, self) => {
  const parts = path.resolve(p).split('/').slice(1, self ? undefined : -1);
  let dir = '';
  for (const part of ['', ...parts]) {
    dir = part === '' ? '/' : path.join(dir, part);
    try { fs.accessSync(dir, fs.constants.X_OK); } catch { return dir; }
  }
  return undefined;
};
const out = targets.map((t) => {
  try {
    if (t.traverse) fs.accessSync(t.path, fs.constants.X_OK);
    else fs.closeSync(fs.openSync(t.path, t.write ? fs.constants.O_RDWR : fs.constants.O_RDONLY));
    return { path: t.path, ok: true };
  } catch (err) {
    const b = err.code === 'EACCES' || err.code === 'ENOENT' ? blockedAt(t.path, t.traverse) : undefined;
    return { path: t.path, ok: false, code: err.code, ...(b ? { blockedAt: b } : {}) };
  }
});
process.stdout.write(JSON.stringify(out));
`;

/** Each target opened (and closed) as `account`; rejects only when the child itself fails. */
export function openAs(account: Account, targets: readonly OpenTarget[], timeoutMs = 10_000): Promise<OpenResult[]> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ['-e', CHILD, JSON.stringify({ account, targets })],
      { timeout: timeoutMs, encoding: 'utf8' },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`opening files as uid ${account.uid}: ${stderr.trim() || err.message}`));
        resolve(JSON.parse(stdout) as OpenResult[]);
      },
    );
  });
}
