/**
 * Live migration of a running domain to another host's libvirtd, by `virsh migrate` (the
 * @unraid/libvirt binding has no migration call). Peer to peer: this host's libvirtd talks to the
 * target's (`qemu+tls://HOST/system` in production); QEMU streams memory, and the NBD mirror copies
 * only the writable disks (`--copy-storage-all --migrate-disks`): the read-only layers are already
 * in the target's store. The target runs the guest under `migrationXml`: this domain's live XML
 * with the target's own file paths, and keeps `targetXml` as its persistent definition (what its
 * own define wrote); this host's definition goes (`--undefinesource`).
 *
 * @example
 * const xml = migrationXml(await dom.getXMLDesc(MIGRATABLE), targetXml);
 * await virshMigrate('qemu:///system', 'storm-i1', { targetUri: 'qemu+tls://b/system', xml, targetXml, disks: ['vdc'] });
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StormdErr } from '../errors.js';
import { runTool } from '../exec.js';

const DISK = /<disk\b[^>]*>[\s\S]*?<\/disk>/g;
const TARGET = /<target\s+dev=['"]([^'"]+)['"]/;
const SOURCE_FILE = /(<source\b[^>]*\bfile=)(['"])([^'"]*)\2/;
const BOOT_FILE = (tag: string) => new RegExp(`(<${tag}>)([^<]*)(</${tag}>)`);
const LOG_FILE = /(<log\b[^>]*\bfile=)(['"])([^'"]*)\2/g;

export interface MigrateOptions {
  /** The target's libvirtd, as this host's libvirtd reaches it. */
  readonly targetUri: string;
  /** The XML the guest runs under on the target (`migrationXml`). */
  readonly xml: string;
  /** The target's persistent definition. */
  readonly targetXml: string;
  /** The disks whose content is copied (target devs, e.g. `vdc`); the others are on the target already. */
  readonly disks: readonly string[];
  /** Where the target's QEMU listens for memory (`tcp://HOST:PORT`, `unix:///path`); libvirt picks one when absent. */
  readonly migrateUri?: string;
  /** Where the target's NBD server listens for the disks; libvirt picks one when absent. */
  readonly disksUri?: string;
  /** Migration bound; aborted after it (the guest stays here, running). */
  readonly timeoutMs: number;
}

/** Transports a target libvirtd may be reached by; `ext` and `ssh` would run a command the URI names. */
const TARGET_SCHEMES = new Set(['qemu+tls:', 'qemu+tcp:', 'qemu+unix:']);
const TARGET_PARAMS = new Set(['socket', 'pkipath']);
const STREAM_SCHEMES = new Set(['tcp:', 'unix:']);

/** Refuses (400) a target URI that is not a qemu `/system` URI over tls, tcp or unix with only `socket`/`pkipath`, and stream URIs other than tcp and unix. */
export function checkMigrationUris(uris: { targetUri: string; migrateUri?: string | undefined; disksUri?: string | undefined }): void {
  const target = parseUri(uris.targetUri, 'targetUri');
  if (!TARGET_SCHEMES.has(target.protocol) || target.pathname !== '/system')
    throw StormdErr.STORMD_ERR_BAD_INPUT(`targetUri ${uris.targetUri}: a qemu+tls, qemu+tcp or qemu+unix URI of /system is needed`);
  for (const key of target.searchParams.keys())
    if (!TARGET_PARAMS.has(key)) throw StormdErr.STORMD_ERR_BAD_INPUT(`targetUri ${uris.targetUri}: parameter ${key} is not allowed`);
  for (const [field, value] of [
    ['migrateUri', uris.migrateUri],
    ['disksUri', uris.disksUri],
  ] as const)
    if (value !== undefined && !STREAM_SCHEMES.has(parseUri(value, field).protocol))
      throw StormdErr.STORMD_ERR_BAD_INPUT(`${field} ${value}: tcp:// or unix:// is needed`);
}

function parseUri(value: string, field: string): URL {
  try {
    return new URL(value);
  } catch {
    throw StormdErr.STORMD_ERR_BAD_INPUT(`${field} ${value} is not a URI`);
  }
}

/** The target devs (`vda`…) of the writable disks of a domain XML, in device order. */
export function writableDisks(xml: string): string[] {
  return [...xml.matchAll(DISK)]
    .map((m) => m[0])
    .filter((d) => !/<readonly\s*\/>/.test(d) && SOURCE_FILE.test(d))
    .map((d) => TARGET.exec(d)?.[1] ?? '')
    .filter(Boolean);
}

/**
 * `liveXml` with every host path the target names differently replaced by the target's: each disk's
 * source (matched by target dev), kernel, initrd and the serial log. Everything else (devices,
 * addresses, CPU) stays as the running guest has it, which libvirt requires for a live migration.
 */
export function migrationXml(liveXml: string, targetXml: string): string {
  const theirs = new Map<string, string>();
  for (const [disk] of targetXml.matchAll(DISK)) {
    const dev = TARGET.exec(disk)?.[1];
    const file = SOURCE_FILE.exec(disk)?.[3];
    if (dev && file !== undefined) theirs.set(dev, file);
  }
  let out = liveXml.replace(DISK, (disk) => {
    const dev = TARGET.exec(disk)?.[1];
    if (!dev || !SOURCE_FILE.test(disk)) return disk;
    const file = theirs.get(dev);
    if (file === undefined)
      throw StormdErr.STORMD_ERR_BAD_INPUT(`the target's definition has no disk ${dev}; both hosts must define the same stack`);
    return disk.replace(SOURCE_FILE, (_m, head: string, q: string) => `${head}${q}${escapeAttr(file)}${q}`);
  });
  for (const tag of ['kernel', 'initrd']) {
    const file = BOOT_FILE(tag).exec(targetXml)?.[2];
    if (file !== undefined) out = out.replace(BOOT_FILE(tag), (_m, open: string, _old: string, close: string) => `${open}${file}${close}`);
  }
  const log = new RegExp(LOG_FILE.source).exec(targetXml)?.[3];
  if (log !== undefined) out = out.replace(LOG_FILE, (_m, head: string, q: string) => `${head}${q}${log}${q}`);
  return out;
}

/** Runs the migration; resolves once the guest runs on the target and is gone from here. */
export async function virshMigrate(uri: string, domain: string, opts: MigrateOptions): Promise<void> {
  // The XML names host paths only; a private folder keeps even that to root.
  const dir = await mkdtemp(join(tmpdir(), 'stormd-migrate-'));
  try {
    const xml = join(dir, 'live.xml');
    const persistent = join(dir, 'persistent.xml');
    await writeFile(xml, opts.xml, { mode: 0o600 });
    await writeFile(persistent, opts.targetXml, { mode: 0o600 });
    const args = [
      ...['-q', '-c', uri, 'migrate', '--live', '--p2p', '--persistent', '--undefinesource'],
      ...['--xml', xml, '--persistent-xml', persistent],
      ...(opts.disks.length ? ['--copy-storage-all', '--migrate-disks', opts.disks.join(',')] : []),
      ...(opts.migrateUri ? ['--migrateuri', opts.migrateUri] : []),
      ...(opts.disksUri ? ['--disks-uri', opts.disksUri] : []),
      domain,
      opts.targetUri,
    ];
    // Not virsh's --timeout: it pauses the guest to finish the copy. Past ours the job is aborted and the guest runs on here.
    await runTool('virsh', args, opts.timeoutMs).catch(async (err: unknown) => {
      await runTool('virsh', ['-q', '-c', uri, 'domjobabort', domain], 30_000).catch(() => undefined); // nothing to abort when it failed by itself
      throw err;
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The downtime libvirt measured for the last completed migration of `domain` (paused on the source → resumed on the target), on `uri`; undefined when it says none. */
export async function completedDowntimeMs(uri: string, domain: string): Promise<number | undefined> {
  const { stdout } = await runTool('virsh', ['-q', '-c', uri, 'domjobinfo', domain, '--completed'], 30_000);
  const m = /^Total downtime:\s+(\d+)\s*ms/m.exec(stdout.toString());
  return m ? Number(m[1]) : undefined;
}

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/'/g, '&apos;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
}
