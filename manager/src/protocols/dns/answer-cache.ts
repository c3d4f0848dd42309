/**
 * A size- and time-bounded map of built answers, so a hot name costs no ZoneSource lookup.
 * Eviction is oldest-inserted first; `clear()` runs on every zone change.
 *
 * @example
 * const cache = new AnswerCache<string>(5000, 10_000, Date.now);
 * cache.set('A web1.storm.internal', 'answer');
 * cache.get('A web1.storm.internal'); // 'answer' until 5 s pass or clear()
 */
export class AnswerCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();

  constructor(
    private readonly ttlMs: number,
    private readonly maxEntries: number,
    private readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const e = this.entries.get(key);
    if (!e) return undefined;
    if (e.until > this.now()) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V): void {
    if (this.ttlMs <= 0) return;
    if (this.entries.size >= this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (!oldest.done) this.entries.delete(oldest.value);
    }
    this.entries.set(key, { value, until: this.now() + this.ttlMs });
  }

  clear(): void {
    this.entries.clear();
  }

  get size(): number {
    return this.entries.size;
  }
}
