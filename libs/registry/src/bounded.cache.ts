/**
 * A map that keeps at most `capacity` entries, forgetting the least recently used first, with
 * an optional lifetime per entry. Registry answers are small but a bridge runs for months: the
 * bound keeps a stream of distinct subjects or ids from growing memory without end.
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, { value: V; expiresAt: number }>();

  constructor(
    private readonly capacity: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`cache capacity must be a positive integer, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= this.now()) return undefined;
    this.entries.set(key, entry); // most recently used last
    return entry.value;
  }

  delete(key: K): void {
    this.entries.delete(key);
  }

  /** Stores `value`; `ttlMs` undefined keeps it until it is pushed out. */
  set(key: K, value: V, ttlMs?: number): void {
    this.entries.delete(key);
    this.entries.set(key, { value, expiresAt: ttlMs === undefined ? Infinity : this.now() + ttlMs });
    if (this.entries.size > this.capacity) this.entries.delete(this.entries.keys().next().value as K);
  }
}
