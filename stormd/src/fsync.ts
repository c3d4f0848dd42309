/**
 * fsync of a file or folder by path: after a rename, the folder's fsync makes the new name survive a crash.
 *
 * @example
 * await rename(partial, final);
 * await fsyncPath(dirname(final));
 */
import { open } from 'node:fs/promises';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
