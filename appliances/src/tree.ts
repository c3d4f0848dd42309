/**
 * Directory trees as build inputs: a content fingerprint, and a staging copy with normalized
 * modes (git keeps only the executable bit, so the umask must not leak into an image).
 */
import { createHash } from 'node:crypto';
import { chmod, copyFile, lstat, mkdir, readdir, readFile, readlink, symlink } from 'node:fs/promises';
import { join } from 'node:path';

export interface TreeEntry {
  /** Path relative to the tree root, `/`-separated. */
  readonly rel: string;
  readonly type: 'dir' | 'file' | 'symlink';
  readonly executable: boolean;
}

/** Every entry under `root`, sorted by path; other file types are refused. */
export async function walkTree(root: string): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  async function walk(rel: string): Promise<void> {
    const names = (await readdir(join(root, rel))).sort();
    for (const name of names) {
      const r = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(root, r));
      if (st.isDirectory()) {
        out.push({ rel: r, type: 'dir', executable: true });
        await walk(r);
      } else if (st.isFile()) {
        out.push({ rel: r, type: 'file', executable: (st.mode & 0o111) !== 0 });
      } else if (st.isSymbolicLink()) {
        out.push({ rel: r, type: 'symlink', executable: false });
      } else {
        throw new Error(`${join(root, r)}: only directories, files and symlinks belong in a layer source`);
      }
    }
  }
  await walk('');
  return out;
}

/** sha256 over paths, types, executable bits, contents and link targets. */
export async function hashTree(root: string): Promise<string> {
  const h = createHash('sha256');
  for (const e of await walkTree(root)) {
    const abs = join(root, e.rel);
    const body =
      e.type === 'file'
        ? createHash('sha256')
            .update(await readFile(abs))
            .digest('hex')
        : e.type === 'symlink'
          ? await readlink(abs)
          : '';
    h.update(`${e.rel}\0${e.type}\0${e.executable ? 'x' : '-'}\0${body}\n`);
  }
  return h.digest('hex');
}

/** Copies `src` into (existing) `dest`: dirs 0755, files 0755 or 0644, symlinks verbatim. */
export async function stageTree(src: string, dest: string): Promise<void> {
  for (const e of await walkTree(src)) {
    const from = join(src, e.rel);
    const to = join(dest, e.rel);
    if (e.type === 'dir') {
      await mkdir(to, { recursive: true });
      await chmod(to, 0o755);
    } else if (e.type === 'file') {
      await copyFile(from, to);
      await chmod(to, e.executable ? 0o755 : 0o644);
    } else {
      await symlink(await readlink(from), to);
    }
  }
}
