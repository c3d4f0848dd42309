/**
 * Failed-login limits, in memory, per account *and* source address, with backoff: after a few free
 * attempts each further failure of that pair doubles its wait (1 s, 2 s, 4 s … capped). A second,
 * higher limit per address (any account) slows one address spraying many usernames. There is no
 * per-account limit across addresses: failures from elsewhere never lock the administrator out
 * (they cost the attacker scrypt per guess and backoff per address). A success clears its pair.
 *
 * @example
 * const wait = limiter.retryAfter(ip, username); // seconds, 0 when allowed
 * if (!ok) limiter.failed(ip, username); else limiter.succeeded(ip, username);
 */
export interface LoginLimiterOptions {
  /** Failures of one account from one address before backoff starts. */
  readonly freePerPair?: number;
  /** Failures from one address, any account, before backoff starts. */
  readonly freePerAddress?: number;
  /** The first wait; each further failure doubles it. */
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  /** A key with no failure for this long starts over. */
  readonly forgetAfterMs?: number;
  /** Distinct keys remembered; the oldest go first (bounds memory under a spray of addresses). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

interface Record {
  failures: number;
  last: number;
  until: number;
}

export class LoginLimiter {
  private readonly records = new Map<string, Record>();
  private readonly freePerPair: number;
  private readonly freePerAddress: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly forgetAfterMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: LoginLimiterOptions = {}) {
    this.freePerPair = opts.freePerPair ?? 5;
    this.freePerAddress = opts.freePerAddress ?? 20;
    this.baseDelayMs = opts.baseDelayMs ?? 1000;
    this.maxDelayMs = opts.maxDelayMs ?? 15 * 60_000;
    this.forgetAfterMs = opts.forgetAfterMs ?? 60 * 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Seconds until this account may be tried again from this address; 0 when it may now. */
  retryAfter(address: string, username: string): number {
    const now = this.now();
    const wait = Math.max(this.waitFor(pairKey(address, username), now), this.waitFor(addressKey(address), now));
    return Math.ceil(wait / 1000);
  }

  failed(address: string, username: string): void {
    this.count(pairKey(address, username), this.freePerPair);
    this.count(addressKey(address), this.freePerAddress);
    while (this.records.size > this.maxKeys) this.records.delete(this.records.keys().next().value!);
  }

  /** The pair starts over; the address's own count stays (one known password must not reopen a spray). */
  succeeded(address: string, username: string): void {
    this.records.delete(pairKey(address, username));
  }

  private count(key: string, free: number): void {
    const now = this.now();
    const known = this.records.get(key);
    const r = known && now - known.last < this.forgetAfterMs ? known : { failures: 0, last: now, until: 0 };
    r.failures += 1;
    r.last = now;
    const over = r.failures - free;
    if (over >= 0) r.until = now + Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** Math.min(over, 30));
    // Re-insert: the Map's order is the eviction order, oldest activity first.
    this.records.delete(key);
    this.records.set(key, r);
  }

  private waitFor(key: string, now: number): number {
    const r = this.records.get(key);
    if (!r || now - r.last >= this.forgetAfterMs) return 0;
    return Math.max(0, r.until - now);
  }
}

const pairKey = (address: string, username: string): string => `pair:${username}\u0000${address}`;
const addressKey = (address: string): string => `ip:${address}`;
