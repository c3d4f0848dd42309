/**
 * Password hashing for directory users: scrypt (Node's crypto), a 16-byte random salt per hash,
 * parameters stored in the hash so they can be raised later, constant-time comparison. At most
 * `maxConcurrent` hashes run at once (each takes 32 MiB and ~0.1 s at the default cost); past
 * `maxWaiting` queued, callers get MGR_ERR_UNAVAILABLE instead of piling up memory.
 *
 * Generated secrets (service accounts) carry 256 bits of entropy, so a single SHA-256 is enough
 * for them and keeps every appliance bind cheap.
 *
 * @example
 * const hasher = new PasswordHasher();
 * const stored = await hasher.hash('correct horse');   // '$scrypt$ln=15,r=8,p=1$…$…'
 * await hasher.verify('correct horse', stored);        // true
 * await hasher.verify('anything', null);               // false, after the same work
 */
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { MgrErr } from '../errors.js';

export interface ScryptCost {
  /** log2 of N, the CPU/memory cost. */
  readonly log2N: number;
  readonly r: number;
  readonly p: number;
}

export interface PasswordHasherOptions {
  readonly cost?: ScryptCost;
  readonly maxConcurrent?: number;
  readonly maxWaiting?: number;
}

export const DEFAULT_SCRYPT_COST: ScryptCost = Object.freeze({ log2N: 15, r: 8, p: 1 });
const KEY_BYTES = 32;
const SALT_BYTES = 16;
const FORMAT = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

function derive(password: string, salt: Buffer, cost: ScryptCost): Promise<Buffer> {
  const N = 2 ** cost.log2N;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r: cost.r, p: cost.p, maxmem: 256 * N * cost.r }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

function parse(stored: string): { cost: ScryptCost; salt: Buffer; key: Buffer } | undefined {
  const m = FORMAT.exec(stored);
  if (!m) return undefined;
  const cost = { log2N: Number(m[1]), r: Number(m[2]), p: Number(m[3]) };
  // A stored hash is ours, but bounds keep a corrupted row from asking for gigabytes.
  if (cost.log2N < 1 || cost.log2N > 20 || cost.r < 1 || cost.r > 32 || cost.p < 1 || cost.p > 16) return undefined;
  return { cost, salt: Buffer.from(m[4]!, 'base64'), key: Buffer.from(m[5]!, 'base64') };
}

export class PasswordHasher {
  readonly cost: ScryptCost;
  private readonly maxConcurrent: number;
  private readonly maxWaiting: number;
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private dummy: Promise<string> | undefined;

  constructor(options: PasswordHasherOptions = {}) {
    this.cost = options.cost ?? DEFAULT_SCRYPT_COST;
    this.maxConcurrent = options.maxConcurrent ?? 4;
    this.maxWaiting = options.maxWaiting ?? 256;
  }

  async hash(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await this.limited(() => derive(password, salt, this.cost));
    const { log2N, r, p } = this.cost;
    return `$scrypt$ln=${log2N},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  /** True when `password` matches `stored`; a missing or unreadable hash costs the same and is false. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    const parsed = stored ? parse(stored) : undefined;
    if (!parsed) {
      // Unknown users cost as much as known ones, so timing does not tell them apart.
      const dummy = parse(await this.dummyHash())!;
      await this.limited(() => derive(password, dummy.salt, dummy.cost));
      return false;
    }
    const key = await this.limited(() => derive(password, parsed.salt, parsed.cost));
    return key.length === parsed.key.length && timingSafeEqual(key, parsed.key);
  }

  private dummyHash(): Promise<string> {
    this.dummy ??= this.hash(randomBytes(18).toString('base64'));
    return this.dummy;
  }

  private async limited<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxWaiting) throw MgrErr.MGR_ERR_UNAVAILABLE('too many password checks in progress');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // Hand the slot straight to the next waiter; only free it when nobody waits.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }
}

/** A random secret for a service account: 32 bytes, base64url (43 characters). */
export function generateSecret(): string {
  return randomBytes(32).toString('base64url');
}

export function hashSecret(secret: string): string {
  return `$sha256$${createHash('sha256').update(secret, 'utf8').digest('hex')}`;
}

/** Constant-time check of a generated secret against its stored digest. */
export function verifySecret(secret: string, stored: string | null): boolean {
  const m = stored ? /^\$sha256\$([0-9a-f]{64})$/.exec(stored) : null;
  const expected = m ? Buffer.from(m[1]!, 'hex') : Buffer.alloc(32);
  const actual = createHash('sha256').update(secret, 'utf8').digest();
  return timingSafeEqual(actual, expected) && m !== null;
}
