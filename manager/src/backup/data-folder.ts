/**
 * What in a manager's data folder is state and goes into a backup, and what is left out and why.
 * Every entry is classified; the backup's manifest lists what was left out, so nothing is dropped
 * silently. test/integration/manager-backup.test.ts checks that a running manager with hosts and
 * instances writes nothing unrecognised.
 *
 * @example
 * const { files, omitted } = await surveyDataFolder('/var/lib/storm/manager', facts.packagedLayers);
 */
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ManifestFile, OmittedEntry } from './manifest.js';

export const DATABASE_FILE = 'storm.db';
/** A backup cannot be restored into a working manager without these. */
export const REQUIRED_FILES = [DATABASE_FILE, 'pki/ca.pem', 'pki/ca.key'] as const;

type Classification = { readonly copy: ManifestFile['kind'] } | { readonly omit: string; readonly reason: string } | 'descend';

const SHA256 = /^[0-9a-f]{64}$/;

/** The omitted groups, by the label `--list` shows for them. */
const OMIT = {
  wal: { omit: 'storm.db-wal, storm.db-shm', reason: "the live database's log and index: their contents are in the snapshot" },
  url: { omit: 'manager.url', reason: 'written again at every start' },
  cache: { omit: 'images/', reason: 'the layer cache: layers are fetched again from their channels when a launch needs them' },
  site: { omit: 'local-channel/site/', reason: "the local channel's site: rebuilt at start from the database and the packaged layers" },
  temporary: { omit: 'local-channel/.src-*', reason: 'a temporary folder of a local channel rebuild' },
  kdb: {
    omit: 'kerberos/principal*',
    reason:
      "the Kerberos realm's live database: in the backup as its dump (kerberos/principal.dump), loaded at the restored manager's first start",
  },
  kdcProfiles: { omit: 'kerberos/kdc.conf, krb5.conf, kadm5.acl', reason: 'written again at every start' },
  kdcTmp: { omit: 'kerberos/tmp/', reason: 'keytabs on their way to a guest, deleted at once' },
} as const;

/** How one entry (path relative to the data folder, `/`-separated) is treated. */
export function classify(rel: string, isDir: boolean, packagedLayers: ReadonlySet<string>): Classification {
  const [top, ...rest] = rel.split('/');
  const sub = rest.join('/');
  switch (top) {
    case DATABASE_FILE:
      return { copy: 'database' };
    case 'storm.db-wal':
    case 'storm.db-shm':
    case 'storm.db-journal':
      return OMIT.wal;
    case 'admin.token':
      return { copy: 'admin-token' };
    case 'manager.url':
      return OMIT.url;
    case 'pki':
      return isDir ? 'descend' : { copy: 'pki' };
    case 'images':
      if (!sub) return 'descend';
      return !isDir && SHA256.test(sub) && packagedLayers.has(sub) ? { copy: 'packaged-layer' } : OMIT.cache;
    case 'local-channel':
      if (!sub) return 'descend';
      if (sub === 'publisher.key' || sub === 'publisher.pub') return { copy: 'channel-key' };
      if (sub === 'site' || sub.startsWith('site/')) return OMIT.site;
      if (sub.startsWith('.src-')) return OMIT.temporary;
      break;
    case 'kerberos':
      // The realm (--kdc-listen): its master key and name as they are; the database as a dump.
      if (!sub) return 'descend';
      if (sub === 'stash' || sub === 'realm' || sub === 'principal.dump') return { copy: 'kerberos' };
      if (sub.startsWith('principal')) return OMIT.kdb;
      if (sub === 'kdc.conf' || sub === 'krb5.conf' || sub === 'kadm5.acl') return OMIT.kdcProfiles;
      if (sub === 'tmp' || sub.startsWith('tmp/')) return OMIT.kdcTmp;
      break;
  }
  return { omit: isDir ? `${rel}/` : rel, reason: 'not recognised as manager state; not copied' };
}

export interface PlannedFile extends Omit<ManifestFile, 'sha256'> {
  /** Where the bytes are read from (the snapshot for the database). */
  readonly source: string;
}

export interface Survey {
  readonly files: PlannedFile[];
  readonly omitted: OmittedEntry[];
}

/** Walks the data folder (symbolic links are not followed) and sorts every entry. */
export async function surveyDataFolder(dataDir: string, packagedLayers: ReadonlySet<string>): Promise<Survey> {
  const files: PlannedFile[] = [];
  const omitted = new Map<string, OmittedEntry>();
  const leaveOut = (label: string, reason: string, bytes: number, count: number) => {
    const was = omitted.get(label);
    omitted.set(label, { path: label, reason, files: (was?.files ?? 0) + count, bytes: (was?.bytes ?? 0) + bytes });
  };
  const walk = async (rel: string): Promise<void> => {
    const abs = rel ? join(dataDir, rel) : dataDir;
    for (const name of (await readdir(abs)).sort()) {
      const childRel = rel ? `${rel}/${name}` : name;
      const st = await lstat(join(abs, name));
      if (st.isSymbolicLink()) {
        leaveOut(childRel, 'a symbolic link; not followed', 0, 1);
        continue;
      }
      const how = classify(childRel, st.isDirectory(), packagedLayers);
      if (how === 'descend') await walk(childRel);
      else if ('copy' in how && st.isFile())
        files.push({ path: childRel, kind: how.copy, mode: fileMode(how.copy, st.mode), size: st.size, source: join(abs, name) });
      else if ('omit' in how) {
        const { count, bytes } = st.isDirectory() ? await measure(join(abs, name)) : { count: 1, bytes: st.size };
        leaveOut(how.omit, how.reason, bytes, count);
      } else leaveOut(childRel, 'not a regular file; not copied', 0, 1);
    }
  };
  await walk('');
  return { files, omitted: [...omitted.values()] };
}

/** Restored modes: the database and every secret 0600, nothing executable or writable by others. */
function fileMode(kind: ManifestFile['kind'], mode: number): number {
  return kind === 'database' || kind === 'admin-token' || kind === 'kerberos' ? 0o600 : mode & 0o644;
}

async function measure(dir: string): Promise<{ count: number; bytes: number }> {
  let count = 0;
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (!entry.isFile()) continue;
    count += 1;
    // Dirent.parentPath is Node 20.12+; Node 18.17+ (Debian 12's, the manager appliance's) names it `path`.
    bytes += (await lstat(join(entry.parentPath ?? entry.path, entry.name))).size;
  }
  return { count, bytes };
}
