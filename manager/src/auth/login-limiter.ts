/**
 * Failed-login limits, in memory: per client address and per username, in a sliding window. A
 * success clears that address's and that user's count. The username limit is higher so one
 * address cannot lock the admin out alone.
 *
 * @example
 * const wait = limiter.retryAfter(ip, username); // seconds, 0 when allowed
 * if (!ok) limiter.failed(ip, username); else limiter.succeeded(ip, username);
 */
export interface LoginLimiterOptions {
  readonly perAddress?: number;
  readonly perUser?: number;
  readonly windowMs?: number;
  /** Distinct keys remembered; the oldest go first (bounds memory under a spray of addresses). */
  readonly maxKeys?: number;
  readonly now?: () => number;
}

export class LoginLimiter {
  private readonly failures = new Map<string, number[]>();
  private readonly perAddress: number;
  private readonly perUser: number;
  private readonly windowMs: number;
  private readonly maxKeys: number;
  private readonly now: () => number;

  constructor(opts: LoginLimiterOptions = {}) {
    this.perAddress = opts.perAddress ?? 10;
    this.perUser = opts.perUser ?? 30;
    this.windowMs = opts.windowMs ?? 15 * 60_000;
    this.maxKeys = opts.maxKeys ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  /** Seconds until another attempt is allowed for this address and user; 0 when it is allowed now. */
  retryAfter(address: string, username: string): number {
    const wait = Math.max(this.waitFor(`ip:${address}`, this.perAddress), this.waitFor(`user:${username}`, this.perUser));
    return Math.ceil(wait / 1000);
  }

  failed(address: string, username: string): void {
    for (const key of [`ip:${address}`, `user:${username}`]) {
      const list = this.recent(key);
      list.push(this.now());
      this.failures.delete(key);
      this.failures.set(key, list);
    }
    while (this.failures.size > this.maxKeys) this.failures.delete(this.failures.keys().next().value!);
  }

  succeeded(address: string, username: string): void {
    this.failures.delete(`ip:${address}`);
    this.failures.delete(`user:${username}`);
  }

  private recent(key: string): number[] {
    const since = this.now() - this.windowMs;
    return (this.failures.get(key) ?? []).filter((t) => t > since);
  }

  private waitFor(key: string, limit: number): number {
    const list = this.recent(key);
    if (list.length < limit) return 0;
    // Allowed again when the oldest failure that counts leaves the window.
    return list[list.length - limit]! + this.windowMs - this.now();
  }
}
