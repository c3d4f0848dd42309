/**
 * Extended attributes through attr's `getfattr`/`setfattr` (Node has no xattr calls): dumps parsed
 * into maps, sets and removals batched over many paths per process. Symlinks are never followed,
 * and file names must be UTF-8 (Node's paths are strings), which the layer walk checks first.
 *
 * @example
 * const dump = await dumpXattrs(['/stage/etc'], { recursive: true });
 * dump.get('/stage/etc/ssl')?.get('trusted.overlay.opaque')?.toString(); // 'y'
 * await setXattr('trusted.overlay.opaque', 'y', ['/stage/srv/www']);
 */
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';

/** Attribute name → value, per absolute path; paths without attributes are absent. */
export type XattrDump = Map<string, Map<string, Buffer>>;

export interface DumpOptions {
  /** Walk directories (`-R -P`: physical walk, symlinks not followed). */
  readonly recursive?: boolean;
  /** Regular expression on attribute names (getfattr -m); default every namespace. */
  readonly match?: string;
}

/** Arguments per process: far below ARG_MAX, so any path list splits into safe calls. */
const ARG_BYTES = 96 * 1024;
const TIMEOUT_MS = 30 * 60_000;

/** Every matching attribute of `paths` (and below them when recursive). */
export async function dumpXattrs(paths: readonly string[], opts: DumpOptions = {}): Promise<XattrDump> {
  const out: XattrDump = new Map();
  const flags = ['--absolute-names', '-h', '-d', '-e', 'hex', '-m', opts.match ?? '-', ...(opts.recursive ? ['-R', '-P'] : [])];
  for (const chunk of chunks(paths)) {
    const { stdout } = await runTool('getfattr', [...flags, '--', ...chunk], TIMEOUT_MS);
    for (const [path, attrs] of parseGetfattr(stdout)) out.set(path, attrs);
  }
  return out;
}

/** Parses `getfattr -d -e hex` output: `# file: <name>` then `<attr>=0x<hex>` lines, names octal-escaped. */
export function parseGetfattr(stdout: Buffer): XattrDump {
  const out: XattrDump = new Map();
  let current: Map<string, Buffer> | undefined;
  // latin1 keeps every byte as one char, so escapes decode to exact bytes before UTF-8.
  for (const line of stdout.toString('latin1').split('\n')) {
    if (line.startsWith('# file: ')) {
      current = new Map();
      out.set(unescapeName(line.slice(8)), current);
    } else if (line && current) {
      const eq = line.indexOf('=');
      const name = unescapeName(eq < 0 ? line : line.slice(0, eq));
      const value = eq < 0 ? '' : line.slice(eq + 1);
      if (!/^0x([0-9a-f]{2})*$/i.test(value) && value !== '')
        throw StormdErr.STORMD_ERR_TOOL_FAILED(`getfattr: unexpected value ${JSON.stringify(value)} for ${name}`);
      current.set(name, Buffer.from(value.slice(2), 'hex'));
    }
  }
  return out;
}

/** getfattr writes `\`, newline, CR (and `=` in attribute names) as `\ooo`. */
function unescapeName(text: string): string {
  const bytes = Buffer.from(
    text.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8))),
    'latin1',
  );
  return bytes.toString('utf8');
}

/** Sets `name` to `value` on every path (symlinks themselves, not their targets). */
export async function setXattr(name: string, value: string, paths: readonly string[]): Promise<void> {
  for (const chunk of chunks(paths)) await runTool('setfattr', ['-h', '-n', name, '-v', value, '--', ...chunk], TIMEOUT_MS);
}

/** Removes `name` from every path; each path must have it. */
export async function removeXattr(name: string, paths: readonly string[]): Promise<void> {
  for (const chunk of chunks(paths)) await runTool('setfattr', ['-h', '-x', name, '--', ...chunk], TIMEOUT_MS);
}

function* chunks(paths: readonly string[]): Generator<string[]> {
  let chunk: string[] = [];
  let bytes = 0;
  for (const p of paths) {
    const size = Buffer.byteLength(p) + 1;
    if (chunk.length && bytes + size > ARG_BYTES) {
      yield chunk;
      chunk = [];
      bytes = 0;
    }
    chunk.push(p);
    bytes += size;
  }
  if (chunk.length) yield chunk;
}
