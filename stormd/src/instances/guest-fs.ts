/**
 * Filesystems that guests wrote are read in user space by an unprivileged user, never by the host
 * kernel: a scratch raw copy of the layer is handed (as an open file, its folder stays closed to
 * that user) to e2fsck, debugfs and fuse2fs running as `nobody`. A guest that crafts its ext4 to
 * hit a parser bug reaches at most a process that owns nothing; the kernel's ext4 driver never
 * sees its bytes. A filesystem e2fsck can neither read nor repair is STORMD_ERR_LAYER_DAMAGED.
 *
 * @example
 * const image = await openScratch(raw);
 * await repairScratch(image, 'writable layer w0');
 * await fuseMount(image, mnt); // read-only, root and nobody only
 * await fuseUnmount(mnt);
 * await image.close();
 */
import { spawn } from 'node:child_process';
import { chmod, chown, type FileHandle, mkdtemp, open, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';

/** Who reads guest filesystems: Debian's nobody:nogroup, which owns no file and runs no service of ours. */
export const FS_READER = Object.freeze({ uid: 65534, gid: 65534 });
/**
 * The scratch image as the reader's tools see it: fuse2fs gets it as fd 3, the others as fd 4. A
 * fuse2fs mount's source reads `/dev/fd/3`, and e2fsck refuses an image whose path names a mounted
 * source as it resolves the name itself: with fd 3 closed in e2fsck, no mount is ever its image.
 */
export const IMAGE = '/dev/fd/4';
const FUSE_IMAGE = '/dev/fd/3';

/** Gives the raw copy at `raw` to the reader and opens it for its tools. */
export async function openScratch(raw: string): Promise<FileHandle> {
  await chown(raw, FS_READER.uid, FS_READER.gid);
  await chmod(raw, 0o600);
  return open(raw, 'r+');
}

/** Runs `command` as the reader with `image` as fd 4 (fd 3 with `asFd3`), `input` as its stdin; resolves with its output, rejects with its exit code as `cause.code`. */
export function runAsReader(
  command: string,
  args: readonly string[],
  image: FileHandle,
  opts: { timeoutMs?: number; asFd3?: boolean; input?: string } = {},
): Promise<{ stdout: Buffer; stderr: string }> {
  const timeoutMs = opts.timeoutMs ?? 10 * 60_000;
  const stdin = opts.input === undefined ? 'ignore' : 'pipe';
  const fds: ('ignore' | 'pipe' | number)[] = opts.asFd3 ? [stdin, 'pipe', 'pipe', image.fd] : [stdin, 'pipe', 'pipe', 'ignore', image.fd];
  return new Promise((resolve, reject) => {
    const child = spawn('setpriv', [`--reuid=${FS_READER.uid}`, `--regid=${FS_READER.gid}`, '--clear-groups', '--', command, ...args], {
      stdio: fds,
    });
    // A reader that exits before reading its input must not throw EPIPE from our side.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input);
    const out: Buffer[] = [];
    let err = '';
    child.stdout?.on('data', (b: Buffer) => out.push(b));
    child.stderr?.on('data', (b: Buffer) => (err += b.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (e) => {
      clearTimeout(timer);
      reject(StormdErr.STORMD_ERR_TOOL_FAILED(`${command}: ${e.message}`, { cause: e }));
    });
    // 'exit', not 'close': fuse2fs leaves a daemon behind that holds nothing of ours but the image.
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr: err });
      const tail = err.trim().split('\n').slice(-5).join(' | ');
      reject(
        StormdErr.STORMD_ERR_TOOL_FAILED(`${command} ${args.join(' ')} (as nobody): ${tail || `exit ${code ?? signal}`}`, {
          cause: { code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: err },
        }),
      );
    });
  });
}

/**
 * e2fsck -fy on the scratch copy: replays the journal a hard power-off left and repairs what it
 * can, on the copy only. Exit 1 and 2 mean "fixed"; 4 and up mean the guest's filesystem cannot be
 * read as a whole, refused as damaged with e2fsck's own words. `discard` punches the free blocks
 * out of the file (e2fsck does so only in a run that changed nothing: 'clean').
 */
export async function repairScratch(image: FileHandle, what: string, opts: { discard?: boolean } = {}): Promise<'clean' | 'fixed'> {
  try {
    await runAsReader('e2fsck', ['-f', '-y', ...(opts.discard ? ['-E', 'discard'] : []), IMAGE], image);
    return 'clean';
  } catch (err) {
    const cause = (err as { cause?: { code?: unknown; stdout?: string; stderr?: string } }).cause;
    // Not run, or killed (the timeout): a tool failure, not a verdict on the filesystem.
    if (typeof cause?.code !== 'number' || cause.code < 1) throw err;
    if (cause.code < 4) return 'fixed';
    const said = `${cause.stderr ?? ''}\n${cause.stdout ?? ''}`
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !/^e2fsck \d/.test(l) && l !== IMAGE)
      .slice(0, 3)
      .join(' ');
    throw StormdErr.STORMD_ERR_LAYER_DAMAGED(
      `${what}: its ext4 filesystem cannot be read or repaired (e2fsck exit ${cause.code}: ${said || 'no detail'}); the guest damaged it. Roll the instance back to a checkpoint, or destroy it`,
    );
  }
}

/** A mount point under the system's temp folder that only the reader owns (fusermount needs to reach it). */
export async function readerMountPoint(): Promise<string> {
  const mnt = await mkdtemp(join(tmpdir(), 'storm-layer-'));
  await chown(mnt, FS_READER.uid, FS_READER.gid);
  return mnt;
}

/** fuse2fs, read-only, as the reader; root may enter (allow_root, with user_allow_other in /etc/fuse.conf). */
export async function fuseMount(image: FileHandle, mnt: string): Promise<void> {
  const { stderr } = await runAsReader('fuse2fs', [FUSE_IMAGE, mnt, '-o', 'ro,norecovery,allow_root'], image, {
    timeoutMs: 60_000,
    asFd3: true,
  });
  // fuse2fs exits 0 when fusermount fails (no_new_privs, no user_allow_other): an empty folder must never pass for the layer.
  if (!(await mountedAt(mnt))) {
    const why = stderr
      .trim()
      .split('\n')
      .filter((l) => !/^Mounting read-only/.test(l))
      .slice(-3)
      .join(' | ');
    throw StormdErr.STORMD_ERR_TOOL_FAILED(
      `fuse2fs did not mount the layer as nobody (${why || 'no message'}): stormd needs fuse2fs and fuse3 installed, user_allow_other in /etc/fuse.conf and no NoNewPrivileges (scripts/setup.sh, docs/hosts.md)`,
    );
  }
}

/** True when a FUSE filesystem is mounted at `mnt`. */
async function mountedAt(mnt: string): Promise<boolean> {
  const lines = (await readFile('/proc/self/mountinfo', 'utf8')).split('\n');
  // mountinfo writes spaces and the like as \ooo.
  const point = (l: string) => (l.split(' ')[4] ?? '').replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return lines.some((l) => point(l) === mnt && / - fuse(\.\S+)? /.test(l));
}

/** Unmounts a fuse2fs mount (its daemon then exits), retried briefly while a reader finishes. */
export async function fuseUnmount(mnt: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await runTool('fusermount3', ['-u', mnt]);
      return;
    } catch (err) {
      if (attempt >= 5) throw err;
      await new Promise((r) => setTimeout(r, 200 * attempt));
    }
  }
}
