/**
 * A file-backed revocation record (`dir/revocations.json`) until the manager keeps revocations in
 * sqlite; anything implementing `RevocationRecord` can replace it, since `buildCrl` only takes
 * the list and the number.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { RevokedCertificate } from './crl.js';
import { PkiErr } from './errors.js';
import { writeFileDurably } from './files.js';
import { normalizeSerial } from './serial.js';

export interface RevocationRecord {
  /** Every revocation so far (a CRL lists revoked certificates until they expire; we keep them all). */
  list(): Promise<RevokedCertificate[]>;
  /** Records a revocation; revoking a serial twice keeps the first date. */
  revoke(serial: string, revokedAt: Date): Promise<void>;
  /** The next CRL number: strictly greater than every one handed out before. */
  nextCrlNumber(): Promise<number>;
}

interface FileShape {
  crlNumber: number;
  revoked: { serial: string; revokedAt: string }[];
}

export const REVOCATIONS_FILE = 'revocations.json';

/**
 * @example
 * const record = new FileRevocationRecord(pkiDir);
 * await record.revoke(serial, new Date());
 * const crlPem = ca.buildCrl(await record.list(), await record.nextCrlNumber());
 */
export class FileRevocationRecord implements RevocationRecord {
  private readonly path: string;
  /** Serialises read-modify-write cycles within this process. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(dir: string) {
    this.path = join(dir, REVOCATIONS_FILE);
  }

  async list(): Promise<RevokedCertificate[]> {
    const state = await this.read();
    return state.revoked.map((r) => ({ serial: r.serial, revokedAt: new Date(r.revokedAt) }));
  }

  revoke(serial: string, revokedAt: Date): Promise<void> {
    const canonical = normalizeSerial(serial);
    return this.update((state) => {
      if (!state.revoked.some((r) => r.serial === canonical)) state.revoked.push({ serial: canonical, revokedAt: revokedAt.toISOString() });
    });
  }

  async nextCrlNumber(): Promise<number> {
    let next = 0;
    await this.update((state) => {
      next = ++state.crlNumber;
    });
    return next;
  }

  private update(change: (state: FileShape) => void): Promise<void> {
    const run = this.queue.then(async () => {
      const state = await this.read();
      change(state);
      await writeFileDurably(this.path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600, replace: true });
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async read(): Promise<FileShape> {
    try {
      return parseRecord(await fs.readFile(this.path, 'utf8'), this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { crlNumber: 0, revoked: [] };
      throw err;
    }
  }
}

/** A damaged record must stop CRL publication loudly: an empty CRL would un-revoke everything. */
function parseRecord(text: string, path: string): FileShape {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw PkiErr.MGR_ERR_PKI_CA_INVALID(`${path} is not JSON`, { cause: err });
  }
  const state = value as Partial<FileShape> | null;
  const ok =
    Number.isSafeInteger(state?.crlNumber) &&
    Array.isArray(state?.revoked) &&
    state.revoked.every((r) => typeof r?.serial === 'string' && typeof r.revokedAt === 'string' && !Number.isNaN(Date.parse(r.revokedAt)));
  if (!ok) throw PkiErr.MGR_ERR_PKI_CA_INVALID(`${path} does not hold { crlNumber, revoked: [{ serial, revokedAt }] }`);
  return state as FileShape;
}
