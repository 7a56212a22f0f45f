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

  // An empty old generation (a map whose keys are deleted as fast as they come, like the open
  // tasks') is not looked in: a lookup, even a miss, reads the key's hash and a bucket.
  get(key: K): V | undefined {
    return this.current.get(key) ?? (this.previous.size === 0 ? undefined : this.previous.get(key));
  }

  has(key: K): boolean {
    return this.current.has(key) || (this.previous.size !== 0 && this.previous.has(key));
  }

  /**
   * Writes `key` into the current generation (a key of the old one moves, and so lives longer).
   * Two lookups, not three: whether the key was in the current generation is told by its size.
   */
  set(key: K, value: V): this {
    const current = this.current;
    const size = current.size;
    current.set(key, value);
    if (current.size === size) return this; // it was there: written over in place
    if (this.previous.size !== 0) this.previous.delete(key);
    if (current.size >= this.generation) this.turn();
    return this;
  }

  /** set() of a key known to be in neither generation (has() said so): one write instead of set()'s lookups. */
  add(key: K, value: V): this {
    this.current.set(key, value);
    if (this.current.size >= this.generation) this.turn();
    return this;
  }

  delete(key: K): boolean {
    return this.current.delete(key) || (this.previous.size !== 0 && this.previous.delete(key));
  }

  /** The current generation, full, becomes the old one; the old one is dropped whole. */
  private turn(): void {
    this.previous = this.current;
    this.current = new Map();
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
