/** fsync for files and folders: a backup or a restore is on disk before anyone is told it is done. */
import { open } from 'node:fs/promises';

export async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** A folder's entries (a rename, a new file) survive a crash only once the folder itself is synced. */
export const fsyncDir = fsyncPath;
