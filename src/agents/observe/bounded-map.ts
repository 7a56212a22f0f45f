/**
 * A map that holds at most `limit` entries, forgetting the oldest first, in two generations:
 * writes go to the current one; when it is half full it becomes the old one and the former old
 * one is dropped whole (ARCHITECTURE invariant 5: memory for finished work is bounded). Every
 * operation is O(1): evicting one key at a time from the front of a Map instead makes V8 step
 * over the holes left by earlier deletions, which grows costly on the per-task path.
 */
export class BoundedMap<K, V extends object> {
  private current = new Map<K, V>();
  private previous = new Map<K, V>();
  private readonly generation: number;

  constructor(readonly limit: number) {
    this.generation = Math.max(1, Math.floor(limit / 2));
  }

  get(key: K): V | undefined {
    return this.current.get(key) ?? this.previous.get(key);
  }

  has(key: K): boolean {
    return this.current.has(key) || this.previous.has(key);
  }

  /** Writes `key` into the current generation (a key of the old one moves, and so lives longer). */
  set(key: K, value: V): this {
    if (!this.current.has(key)) this.previous.delete(key);
    return this.add(key, value);
  }

  /** set() of a key known to be in neither generation (has() said so): one write instead of three steps. */
  add(key: K, value: V): this {
    this.current.set(key, value);
    if (this.current.size >= this.generation) {
      this.previous = this.current;
      this.current = new Map();
    }
    return this;
  }

  delete(key: K): boolean {
    return this.current.delete(key) || this.previous.delete(key);
  }

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** Oldest generation first. */
  *entries(): IterableIterator<[K, V]> {
    yield* this.previous;
    yield* this.current;
  }
}
