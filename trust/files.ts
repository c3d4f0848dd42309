/** Durable, mode-exact file writes for keys and certificates. */
import { constants, promises as fs } from 'node:fs';
import { randomBytes } from 'node:crypto';

/**
 * Writes `data` to a temporary file with `mode` (umask notwithstanding), fsyncs it, then puts it
 * at `path`: `replace: false` uses link(2), which fails with EEXIST rather than overwrite;
 * `replace: true` uses rename(2). A reader never sees a half-written key.
 *
 * @example
 * await writeFileDurably('/var/lib/storm/pki/ca.key', keyPem, { mode: 0o600, replace: false });
 */
export async function writeFileDurably(path: string, data: string, options: { mode: number; replace: boolean }): Promise<void> {
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await fs.open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    await handle.writeFile(data);
    await handle.chmod(options.mode);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    if (options.replace) await fs.rename(tmp, path);
    else await fs.link(tmp, path);
  } finally {
    await fs.rm(tmp, { force: true });
  }
}

/** fsync a folder so the names just linked into it survive a crash. */
export async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
