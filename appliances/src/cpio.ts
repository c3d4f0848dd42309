/**
 * A reproducible newc cpio writer (and a reader for checks): entries sorted by path, inode numbers
 * by position, owner root, mtime 0, so the same entries always give the same bytes.
 *
 * @example
 * const bytes = writeCpio([{ type: 'dir', path: 'dev', mode: 0o755 }, { type: 'char', path: 'dev/console', mode: 0o600, major: 5, minor: 1 }]);
 */
import { ApplErr } from './errors.js';

export type CpioEntry =
  | { readonly type: 'dir'; readonly path: string; readonly mode: number }
  | { readonly type: 'file'; readonly path: string; readonly mode: number; readonly data: Buffer }
  | { readonly type: 'symlink'; readonly path: string; readonly target: string }
  | { readonly type: 'char'; readonly path: string; readonly mode: number; readonly major: number; readonly minor: number };

const MAGIC = '070701';
const HEADER_LEN = 110;
const TRAILER = 'TRAILER!!!';
const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const S_IFMT = 0o170000;

const pad4 = (n: number): number => (4 - (n % 4)) % 4;

function record(ino: number, mode: number, nlink: number, data: Buffer, name: string, rdev: [number, number] = [0, 0]): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [ino, mode, 0, 0, nlink, 0, data.length, 0, 0, rdev[0], rdev[1], nameBytes.length, 0];
  const header = MAGIC + fields.map((f) => f.toString(16).padStart(8, '0')).join('');
  return Buffer.concat([
    Buffer.from(header, 'ascii'),
    nameBytes,
    Buffer.alloc(pad4(HEADER_LEN + nameBytes.length)),
    data,
    Buffer.alloc(pad4(data.length)),
  ]);
}

function checkPaths(sorted: readonly CpioEntry[]): void {
  const dirs = new Set<string>();
  let prev: string | undefined;
  for (const e of sorted) {
    if (e.path === '' || e.path.startsWith('/') || e.path.endsWith('/') || e.path.split('/').includes('..')) {
      throw ApplErr.APPL_ERR_CPIO(`bad path '${e.path}'`);
    }
    if (e.path === prev) throw ApplErr.APPL_ERR_CPIO(`duplicate path '${e.path}'`);
    const parent = e.path.includes('/') ? e.path.slice(0, e.path.lastIndexOf('/')) : undefined;
    if (parent !== undefined && !dirs.has(parent)) throw ApplErr.APPL_ERR_CPIO(`'${e.path}' has no parent directory entry`);
    if (e.type === 'dir') dirs.add(e.path);
    prev = e.path;
  }
}

/** Builds the archive; every parent directory must be an entry too. */
export function writeCpio(entries: readonly CpioEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => Buffer.compare(Buffer.from(a.path), Buffer.from(b.path)));
  checkPaths(sorted);
  const parts = sorted.map((e, i) => entryRecord(e, i + 1));
  parts.push(record(0, 0, 1, Buffer.alloc(0), TRAILER));
  return Buffer.concat(parts);
}

/** One entry's newc record; inode numbers start at 1 (0 is the trailer's). */
function entryRecord(e: CpioEntry, ino: number): Buffer {
  switch (e.type) {
    case 'dir':
      return record(ino, S_IFDIR | (e.mode & 0o7777), 2, Buffer.alloc(0), e.path);
    case 'file':
      return record(ino, S_IFREG | (e.mode & 0o7777), 1, e.data, e.path);
    case 'symlink':
      return record(ino, S_IFLNK | 0o777, 1, Buffer.from(e.target, 'utf8'), e.path);
    case 'char':
      return record(ino, S_IFCHR | (e.mode & 0o7777), 1, Buffer.alloc(0), e.path, [e.major, e.minor]);
  }
}

/** Reads a newc archive back into entries (for checks and tests). */
export function readCpio(buf: Buffer): CpioEntry[] {
  const out: CpioEntry[] = [];
  let off = 0;
  for (;;) {
    if (off + HEADER_LEN > buf.length) throw ApplErr.APPL_ERR_CPIO('truncated header');
    const head = buf.toString('ascii', off, off + HEADER_LEN);
    if (!head.startsWith(MAGIC)) throw ApplErr.APPL_ERR_CPIO(`bad magic at offset ${off}`);
    const field = (i: number): number => Number.parseInt(head.slice(6 + i * 8, 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = off + HEADER_LEN;
    const name = buf.toString('utf8', nameStart, nameStart + nameSize - 1);
    const dataStart = nameStart + nameSize + pad4(HEADER_LEN + nameSize);
    if (dataStart + size > buf.length) throw ApplErr.APPL_ERR_CPIO(`truncated data of '${name}'`);
    const data = buf.subarray(dataStart, dataStart + size);
    off = dataStart + size + pad4(size);
    if (name === TRAILER) return out;
    const perm = mode & 0o7777;
    switch (mode & S_IFMT) {
      case S_IFDIR:
        out.push({ type: 'dir', path: name, mode: perm });
        break;
      case S_IFREG:
        out.push({ type: 'file', path: name, mode: perm, data: Buffer.from(data) });
        break;
      case S_IFLNK:
        out.push({ type: 'symlink', path: name, target: data.toString('utf8') });
        break;
      case S_IFCHR:
        out.push({ type: 'char', path: name, mode: perm, major: field(9), minor: field(10) });
        break;
      default:
        throw ApplErr.APPL_ERR_CPIO(`unsupported type of '${name}'`);
    }
  }
}
