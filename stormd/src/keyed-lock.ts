/**
 * Runs operations on one key (an instance id) one after another, so a remove cannot interleave
 * with a define of the same instance; different keys run in parallel.
 *
 * @example
 * const locks = new KeyedLock();
 * await locks.run('i1', () => service.define('i1', req));
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const before = this.tails.get(key) ?? Promise.resolve();
    const result = before.then(fn, fn);
    const tail = result.catch(() => undefined);
    this.tails.set(key, tail);
    // Forget the key once nothing is queued behind this operation.
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return result;
  }

  /** Keys with an operation running or queued (for tests). */
  get size(): number {
    return this.tails.size;
  }
}
