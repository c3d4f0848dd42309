/**
 * `storm-manager backup --list FILE`: decrypts and checks the whole backup (every chunk, every
 * file's sha256) without writing anything, then shows its manifest.
 *
 * @example
 * const checked = await verifyBackup('/backups/m.stormbak', () => readPassphrase(...));
 * process.stdout.write(renderListing(checked));
 */
import { openBackup } from './container.js';
import type { ParsedHeader } from './header.js';
import type { Manifest } from './manifest.js';
import { readPayload } from './payload.js';

export interface VerifiedBackup {
  readonly path: string;
  readonly header: ParsedHeader;
  readonly fileBytes: number;
  readonly chunks: number;
  readonly manifest: Manifest;
}

export async function verifyBackup(path: string, passphrase: () => Promise<string>): Promise<VerifiedBackup> {
  const backup = await openBackup(path);
  try {
    const unlocked = await backup.unlock(await passphrase());
    // The sink reads nothing: readPayload still hashes every file's bytes as it passes them by.
    const manifest = await readPayload(unlocked.payload(), unlocked.header.payloadBytes, async () => undefined);
    return { path, header: unlocked.header, fileBytes: backup.fileBytes, chunks: unlocked.chunks, manifest };
  } finally {
    await backup.close();
  }
}

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${n} B` : `${v.toFixed(1)} ${units[i]}`;
}

const WHAT: Record<Manifest['files'][number]['kind'], string> = {
  database: 'database snapshot (VACUUM INTO)',
  'admin-token': 'admin API token',
  pki: 'CA and manager certificates and keys',
  'channel-key': "local channel's publisher key",
  'packaged-layer': 'layer of a packaged appliance (no channel has it)',
  kerberos: 'the Kerberos realm: its master key (stash), name, and database dump',
};

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

export function renderListing(v: VerifiedBackup): string {
  const m = v.manifest;
  const { kdf } = v.header;
  const s = m.summary;
  const rows = m.files.map((f) => [f.mode.toString(8).padStart(4, '0'), formatBytes(f.size), f.path, WHAT[f.kind]]);
  const widths = [4, Math.max(4, ...rows.map((r) => r[1]!.length)), Math.max(4, ...rows.map((r) => r[2]!.length))];
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i < 3 ? c.padEnd(widths[i]!) : c))
      .join('  ')
      .trimEnd();
  const out = [
    `STORM manager backup ${v.path}: intact (every chunk and every file's sha256 checked)`,
    `  created    ${m.createdAt} on ${m.source.machine} from ${m.source.dataDir}`,
    `  CA         ${m.ca.subject}, ${m.ca.fingerprint}, valid until ${m.ca.notAfter}`,
    `  holds      ${plural(s.hosts, 'host')}, ${plural(s.instances, 'instance')}, ${plural(s.channels, 'channel')}, ${plural(s.packages, 'package')}, ${plural(s.apiTokens, 'API token')} (database schema ${m.schemaVersion})`,
    `  format     version 1: scrypt N=2^${kdf.log2N} r=${kdf.r} p=${kdf.p}, AES-256-GCM in ${plural(v.chunks, 'chunk')} of ${formatBytes(v.header.chunkBytes)}, ${formatBytes(v.fileBytes)}`,
    '',
    line(['MODE', 'SIZE', 'PATH', 'WHAT']),
    ...rows.map(line),
  ];
  if (m.omitted.length) {
    out.push('', 'Left out:');
    const w = Math.max(...m.omitted.map((o) => o.path.length));
    for (const o of m.omitted) out.push(`  ${o.path.padEnd(w)}  ${plural(o.files, 'file')}, ${formatBytes(o.bytes)}: ${o.reason}`);
  }
  return `${out.join('\n')}\n`;
}
