import { MAX_PRIORITY, priorityOf } from "./task-schedule.js";

/**
 * Entries keyed by task id, kept in placement order: one lane per priority (9 down to 0), first
 * in first out within a lane. Every operation costs the same whatever the backlog: no pass over
 * the entries to find out whether any has a priority, no sort. Lane 0 is one Map, as a plain
 * queue would be, so tasks without a priority pay nothing for the others.
 *
 * Deleting the entry being visited while iterating is allowed (Map semantics); an entry added
 * while iterating may or may not be visited.
 */
export class PriorityLanes<V extends { task: { priority?: number } }> implements Iterable<[string, V]> {
  /** Priority 0 (no priority). */
  private readonly plain = new Map<string, V>();
  /** Priorities 1..9, by index; index 0 unused. */
  private readonly lanes: Array<Map<string, V>> = Array.from({ length: MAX_PRIORITY + 1 }, () => new Map());
  /** The lane of each entry above priority 0. */
  private readonly laneOf = new Map<string, number>();
  private readonly onlyPlain: ReadonlyArray<ReadonlyMap<string, V>> = [this.plain];

  get size(): number {
    return this.plain.size + this.laneOf.size;
  }

  has(id: string): boolean {
    return this.plain.has(id) || this.laneOf.has(id);
  }

  get(id: string): V | undefined {
    const value = this.plain.get(id);
    if (value !== undefined) return value;
    const lane = this.laneOf.get(id);
    return lane === undefined ? undefined : this.lanes[lane]!.get(id);
  }

  /** Adds or replaces `id`; a replaced entry goes to the back of its (new) lane. */
  set(id: string, value: V): this {
    this.delete(id);
    const lane = Math.min(MAX_PRIORITY, Math.max(0, priorityOf(value.task)));
    if (lane > 0) {
      this.lanes[lane]!.set(id, value);
      this.laneOf.set(id, lane);
    } else this.plain.set(id, value);
    return this;
  }

  /**
   * Puts the lanes of `ids` back in the order of `place` (rising from front to back; equal
   * places keep their order): entries taken out and set again, which went to the back, return
   * to where they were (a dispatch that failed). Rebuilds each lane concerned: a sort of it.
   */
  reorder(ids: string[], place: (value: V) => number): void {
    const lanes = new Set<Map<string, V>>();
    for (const id of ids) {
      const lane = this.laneOf.has(id) ? this.lanes[this.laneOf.get(id)!]! : this.plain;
      if (lane.has(id)) lanes.add(lane);
    }
    for (const lane of lanes) {
      const sorted = [...lane].sort(([, a], [, b]) => place(a) - place(b));
      lane.clear();
      for (const [id, value] of sorted) lane.set(id, value);
    }
  }

  /** Removes `id`; the entry it held, if any. */
  take(id: string): V | undefined {
    const plain = this.plain.get(id);
    if (plain !== undefined) {
      this.plain.delete(id);
      return plain;
    }
    const lane = this.laneOf.get(id);
    if (lane === undefined) return undefined;
    this.laneOf.delete(id);
    const items = this.lanes[lane]!;
    const value = items.get(id);
    items.delete(id);
    return value;
  }

  delete(id: string): boolean {
    return this.take(id) !== undefined;
  }

  /**
   * The lanes in order, the highest priority first, for a hot loop to walk without a generator
   * (each lane is oldest first). Only lane 0 while nothing has a priority.
   */
  inOrder(): ReadonlyArray<ReadonlyMap<string, V>> {
    if (this.laneOf.size === 0) return this.onlyPlain;
    const out: Array<ReadonlyMap<string, V>> = [];
    for (let lane = MAX_PRIORITY; lane > 0; lane--)
      if (this.lanes[lane]!.size > 0) out.push(this.lanes[lane]!);
    out.push(this.plain);
    return out;
  }

  /** Entries, the highest priority first, oldest first within one. */
  *[Symbol.iterator](): Iterator<[string, V]> {
    for (const lane of this.inOrder()) yield* lane;
  }

  values(): IterableIterator<V> {
    return (function* (entries: Iterable<[string, V]>) {
      for (const [, value] of entries) yield value;
    })(this);
  }

  keys(): string[] {
    return [...this.plain.keys(), ...this.laneOf.keys()];
  }
}
