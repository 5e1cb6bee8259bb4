/**
 * A map that holds at most `capacity` entries and forgets the least recently used one first. Reading an entry counts as
 * using it. A stored `undefined` reads as a miss, so store `null` for "known to be absent".
 */
export class LruCache<K, V> {
  // A Map iterates in insertion order: moving an entry to the end on every use keeps the least recently used first.
  private readonly entries = new Map<K, V>();

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
  }

  /** How many entries the cache holds now. */
  get size(): number {
    return this.entries.size;
  }

  /** The value for `key`, now the most recently used entry; undefined when the cache does not hold it. */
  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  /** Stores `value` as the most recently used entry, forgetting the least recently used one when the cache is full. */
  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
  }

  /** Forgets `key`; true when the cache held it. */
  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  /** The keys from least to most recently used (the order in which they would be forgotten). */
  keys(): K[] {
    return [...this.entries.keys()];
  }
}
