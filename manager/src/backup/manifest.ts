/**
 * The manifest: the payload's first part, naming every file that follows (path, mode, size,
 * sha256) and everything left out of the backup with why. `--list` prints it; restore checks each
 * file against it.
 *
 * @example
 * const m: Manifest = { format: MANIFEST_FORMAT, createdAt, source, schemaVersion, ca, summary, files, omitted };
 */
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { BackupErr } from './errors.js';

export const MANIFEST_FORMAT = 'storm-manager-backup';

/** Relative, no `.` or `..` segment: a manifest can name nothing outside the restored folder. */
const SAFE_PATH = '^(?!\\.{1,2}(/|$))[A-Za-z0-9._-]+(/(?!\\.{1,2}(/|$))[A-Za-z0-9._-]+)*$';

const Count = Type.Integer({ minimum: 0 });

export const ManifestSchema = Type.Object(
  {
    format: Type.Literal(MANIFEST_FORMAT),
    createdAt: Type.String(),
    /** Where the backup was made; `url` is where its hosts reach it ('' when the manager never started). */
    source: Type.Object({ dataDir: Type.String(), machine: Type.String(), url: Type.String() }, { additionalProperties: false }),
    /** The database's `user_version`: a restore refuses a schema newer than it knows. */
    schemaVersion: Count,
    ca: Type.Object({ subject: Type.String(), fingerprint: Type.String(), notAfter: Type.String() }, { additionalProperties: false }),
    summary: Type.Object(
      { hosts: Count, instances: Count, channels: Count, packages: Count, apiTokens: Count },
      { additionalProperties: false },
    ),
    files: Type.Array(
      Type.Object(
        {
          path: Type.String({ pattern: SAFE_PATH, maxLength: 512 }),
          kind: Type.Union([
            Type.Literal('database'),
            Type.Literal('admin-token'),
            Type.Literal('pki'),
            Type.Literal('channel-key'),
            Type.Literal('packaged-layer'),
            Type.Literal('kerberos'),
          ]),
          mode: Type.Integer({ minimum: 0, maximum: 0o777 }),
          size: Count,
          sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
        },
        { additionalProperties: false },
      ),
    ),
    omitted: Type.Array(
      Type.Object({ path: Type.String(), reason: Type.String(), files: Count, bytes: Count }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export type Manifest = Static<typeof ManifestSchema>;
export type ManifestFile = Manifest['files'][number];
export type OmittedEntry = Manifest['omitted'][number];

/** The largest manifest a reader accepts (a data folder's list of files is a few KiB). */
export const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** The manifest as the payload starts: its length (4 bytes, big-endian), then its JSON. */
export function encodeManifest(m: Manifest): Buffer {
  const json = Buffer.from(JSON.stringify(m), 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(json.length);
  return Buffer.concat([len, json]);
}

/** The payload's length: the framed manifest and every file's bytes. */
export function payloadBytes(m: Manifest): number {
  return encodeManifest(m).length + m.files.reduce((a, f) => a + f.size, 0);
}

/** Checks a decrypted manifest: schema, unique paths, no file inside another's path. */
export function parseManifest(json: Buffer): Manifest {
  let value: unknown;
  try {
    value = JSON.parse(json.toString('utf8'));
  } catch {
    throw BackupErr.MGR_ERR_BACKUP_DAMAGED('the manifest is not JSON');
  }
  if (!Value.Check(ManifestSchema, value)) {
    const first = [...Value.Errors(ManifestSchema, value)][0];
    throw BackupErr.MGR_ERR_BACKUP_FORMAT(`manifest ${first?.instancePath || '/'}: ${first?.message ?? 'invalid'}`);
  }
  const paths = new Set<string>();
  for (const f of value.files) {
    if (paths.has(f.path)) throw BackupErr.MGR_ERR_BACKUP_FORMAT(`manifest names ${f.path} twice`);
    paths.add(f.path);
  }
  for (const p of paths) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i += 1) {
      if (paths.has(parts.slice(0, i).join('/')))
        throw BackupErr.MGR_ERR_BACKUP_FORMAT(`manifest names ${p} inside the file ${parts.slice(0, i).join('/')}`);
    }
  }
  return value;
}
