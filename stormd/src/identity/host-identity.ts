/**
 * The files `stormd join` leaves in the data folder and `stormd` serves with: `key.pem` (0600),
 * `cert.pem`, `ca.pem`, `crl.pem` and `host.json` (0644). host.json is written last, so its
 * presence means the join finished. A renewal stages the new key and certificate in `renewal/` and
 * moves them into place; a crash between the two moves is finished at the next load, so key.pem
 * and cert.pem always end up a pair.
 *
 * @example
 * const identity = await loadHostIdentity('/var/lib/stormd'); // throws STORMD_ERR_NOT_JOINED before a join
 * identity.record.managerKey; // 'sha256:…': the only client key stormd accepts (with the manager role)
 */
import { mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import Type, { type Static } from 'typebox';
import Value from 'typebox/value';
import { syncDir, writeFileDurably } from '../../../trust/files.js';
import { StormdErr } from '../errors.js';

export const HOST_FILES = { key: 'key.pem', cert: 'cert.pem', ca: 'ca.pem', crl: 'crl.pem', host: 'host.json' } as const;
/** Where a renewed key and certificate wait, complete, to be moved into place (`.tmp` while written). */
export const RENEWAL_DIR = 'renewal';

export const HostRecordSchema = Type.Object(
  {
    hostId: Type.String({ minLength: 1 }),
    managerUrl: Type.String({ pattern: '^https://' }),
    managerName: Type.String({ minLength: 1 }),
    /** `sha256:<hex>` of the manager's client key, pinned at join; absent in joins made before pinning. */
    managerKey: Type.Optional(Type.String({ pattern: '^sha256:[0-9a-f]{64}$' })),
    name: Type.String({ minLength: 1 }),
    url: Type.String({ pattern: '^https://' }),
  },
  { additionalProperties: false },
);

export type HostRecord = Static<typeof HostRecordSchema>;

export interface HostIdentity {
  readonly record: HostRecord;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  readonly crlPem: string;
}

export async function isJoined(dataDir: string): Promise<boolean> {
  return stat(join(dataDir, HOST_FILES.host)).then(
    () => true,
    () => false,
  );
}

export async function loadHostIdentity(dataDir: string): Promise<HostIdentity> {
  if (!(await isJoined(dataDir))) {
    throw StormdErr.STORMD_ERR_NOT_JOINED(
      `${dataDir} holds no ${HOST_FILES.host}; run \`stormd join MANAGER_URL --token TOKEN --data ${dataDir}\` first`,
    );
  }
  await finishRenewal(dataDir);
  const read = async (file: string): Promise<string> => {
    try {
      return await readFile(join(dataDir, file), 'utf8');
    } catch (err) {
      throw StormdErr.STORMD_ERR_IDENTITY_INVALID(`cannot read ${join(dataDir, file)}; join again with --force`, { cause: err });
    }
  };
  const [hostText, keyPem, certPem, caPem, crlPem] = await Promise.all(
    [HOST_FILES.host, HOST_FILES.key, HOST_FILES.cert, HOST_FILES.ca, HOST_FILES.crl].map(read),
  );
  let record: unknown;
  try {
    record = JSON.parse(hostText!);
  } catch (err) {
    throw StormdErr.STORMD_ERR_IDENTITY_INVALID(`${HOST_FILES.host} is not JSON`, { cause: err });
  }
  if (!Value.Check(HostRecordSchema, record)) {
    const problems = [...Value.Errors(HostRecordSchema, record)].map((e) => `${e.instancePath || '/'} ${e.message}`);
    throw StormdErr.STORMD_ERR_IDENTITY_INVALID(`${HOST_FILES.host}: ${problems.join('; ')}`);
  }
  return { record, keyPem: keyPem!, certPem: certPem!, caPem: caPem!, crlPem: crlPem! };
}

/** Writes every file durably, 0600 in a 0700 folder (`serve` opens the folder to the qemu group); host.json last. */
export async function writeHostIdentity(dataDir: string, identity: HostIdentity): Promise<void> {
  // Folders made above it (/var/lib/storm for /var/lib/storm/local-host) stay passable: QEMU must get through them.
  await mkdir(dirname(dataDir), { recursive: true, mode: 0o755 });
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  await writeFileDurably(join(dataDir, HOST_FILES.key), identity.keyPem, { mode: 0o600, replace: true });
  await writeFileDurably(join(dataDir, HOST_FILES.cert), identity.certPem, { mode: 0o600, replace: true });
  await writeFileDurably(join(dataDir, HOST_FILES.ca), identity.caPem, { mode: 0o600, replace: true });
  await writeCrlFile(dataDir, identity.crlPem);
  await writeFileDurably(join(dataDir, HOST_FILES.host), `${JSON.stringify(identity.record, null, 2)}\n`, { mode: 0o600, replace: true });
  await syncDir(dataDir);
}

/** Replaces crl.pem (after a newer one was fetched and checked). */
export async function writeCrlFile(dataDir: string, crlPem: string): Promise<void> {
  await writeFileDurably(join(dataDir, HOST_FILES.crl), crlPem, { mode: 0o600, replace: true });
}

/**
 * Puts a renewed key and certificate in place: both are written into `renewal.tmp/`, which becomes
 * `renewal/` in one rename (the commit point), then each moves over its old file.
 */
export async function writeRenewedIdentity(dataDir: string, pair: { keyPem: string; certPem: string }): Promise<void> {
  const staging = join(dataDir, `${RENEWAL_DIR}.tmp`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { mode: 0o700 });
  await writeFileDurably(join(staging, HOST_FILES.key), pair.keyPem, { mode: 0o600, replace: true });
  await writeFileDurably(join(staging, HOST_FILES.cert), pair.certPem, { mode: 0o600, replace: true });
  await syncDir(staging);
  await rename(staging, join(dataDir, RENEWAL_DIR));
  await syncDir(dataDir);
  await finishRenewal(dataDir);
}

/** Completes a committed renewal (after a crash, too); an uncommitted `renewal.tmp/` is dropped. */
export async function finishRenewal(dataDir: string): Promise<void> {
  await rm(join(dataDir, `${RENEWAL_DIR}.tmp`), { recursive: true, force: true });
  const dir = join(dataDir, RENEWAL_DIR);
  if (
    !(await stat(dir).then(
      () => true,
      () => false,
    ))
  )
    return;
  for (const file of [HOST_FILES.key, HOST_FILES.cert]) {
    // A file already moved by an interrupted run is simply absent here.
    await rename(join(dir, file), join(dataDir, file)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }
  await syncDir(dataDir);
  await rm(dir, { recursive: true, force: true });
  await syncDir(dataDir);
}
