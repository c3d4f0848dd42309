/**
 * The CA's two files in the manager's data folder: `ca.pem` (0644) and `ca.key` (0600), in a 0700
 * folder. Written once, never overwritten: an existing pair is only ever read.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { PkiErr } from './errors.js';
import { syncDir, writeFileDurably } from './files.js';

export const CA_CERT_FILE = 'ca.pem';
export const CA_KEY_FILE = 'ca.key';

export interface CaMaterial {
  readonly certPem: string;
  readonly keyPem: string;
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw PkiErr.MGR_ERR_PKI_CA_INVALID(`cannot read ${path}`, { cause: err });
  }
}

/** Like ssh with private keys: refuse a CA key that others can read rather than quietly using it. */
async function assertPrivate(path: string): Promise<void> {
  const { mode } = await fs.stat(path);
  if (mode & 0o077) throw PkiErr.MGR_ERR_PKI_CA_INVALID(`${path} has mode ${(mode & 0o777).toString(8)}; run chmod 600 ${path}`);
}

async function writeNew(path: string, data: string, mode: number): Promise<void> {
  try {
    await writeFileDurably(path, data, { mode, replace: false });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    throw PkiErr.MGR_ERR_PKI_CA_INVALID(`${path} appeared while the CA was being created; is another manager using this folder?`, {
      cause: err,
    });
  }
}

/**
 * Reads the pair from `dir`, or creates it with `generate` when neither file exists. One file
 * without the other is an error: the CA is never silently replaced.
 *
 * @example
 * const { certPem, keyPem } = await loadOrCreateCaFiles('/var/lib/storm/pki', () => generateCa());
 */
export async function loadOrCreateCaFiles(dir: string, generate: () => Promise<CaMaterial>): Promise<CaMaterial & { created: boolean }> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const certPath = join(dir, CA_CERT_FILE);
  const keyPath = join(dir, CA_KEY_FILE);
  const [certPem, keyPem] = await Promise.all([readIfPresent(certPath), readIfPresent(keyPath)]);
  if (certPem !== undefined && keyPem !== undefined) {
    await assertPrivate(keyPath);
    return { certPem, keyPem, created: false };
  }
  if (certPem !== undefined || keyPem !== undefined) {
    const [have, missing] = certPem !== undefined ? [certPath, keyPath] : [keyPath, certPath];
    throw PkiErr.MGR_ERR_PKI_CA_INVALID(
      `${have} exists but ${missing} does not: restore ${missing} from backup (a new CA would orphan every enrolled host), ` +
        `or, if the very first start was interrupted and no host ever enrolled, remove ${have}`,
    );
  }
  const material = await generate();
  // Key first: a crash in between leaves "key without cert", which the check above reports.
  await writeNew(keyPath, material.keyPem, 0o600);
  await writeNew(certPath, material.certPem, 0o644);
  await syncDir(dir);
  return { ...material, created: true };
}
