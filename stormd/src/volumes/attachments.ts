/**
 * Which volumes an instance has attached: `<instance folder>/volumes.json`, `[{ name, serial }]`
 * in attach order. It lives with the instance, so every define of its domain adds them and
 * removing the instance ends them; written beside, fsynced and renamed, so a crash leaves the old
 * list or the new one.
 *
 * @example
 * await writeAttachments(folder, [...(await readAttachments(folder)), { name: 'pgdata', serial: 'storm-vol-pgdata' }]);
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncPath } from '../fsync.js';

export interface Attachment {
  readonly name: string;
  readonly serial: string;
}

export const ATTACHMENTS_FILE = 'volumes.json';

export async function readAttachments(folder: string): Promise<Attachment[]> {
  const text = await readFile(join(folder, ATTACHMENTS_FILE), 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return '[]';
    throw err;
  });
  return JSON.parse(text) as Attachment[];
}

export async function writeAttachments(folder: string, list: readonly Attachment[]): Promise<void> {
  const path = join(folder, ATTACHMENTS_FILE);
  const partial = `${path}.partial`;
  await writeFile(partial, `${JSON.stringify(list, null, 2)}\n`, { mode: 0o600 });
  await fsyncPath(partial);
  await rename(partial, path);
  await fsyncPath(folder);
}
