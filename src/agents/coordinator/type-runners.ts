import type { WorkerSummary } from "../protocol.js";

const NONE: ReadonlySet<string> = new Set();

/** Whether `a` and `b` hold the same types (nothing allocated: called on every heartbeat). */
function sameTypes(a: ReadonlySet<string>, b: ReadonlySet<string>): boolean {
  if (a.size !== b.size) return false;
  for (const t of a) if (!b.has(t)) return false;
  return true;
}

/**
 * Which distributors have a live worker that has said it runs each task type, as their last
 * heartbeats listed their workers: kept up to date on each heartbeat (a distributor's types are
 * compared with those it had, and the map touched only when they changed), so that placing a
 * task reads one map entry, not every distributor's workers. A worker that has not said yet what
 * it runs (no types in its summary) adds nothing: its types are not known.
 */
export class TypeRunners<E> {
  private readonly byType = new Map<string, Set<E>>();
  private readonly typesOf = new Map<E, ReadonlySet<string>>();
  /** Entries with a live worker that has not said yet what it runs: it may run any type. */
  private readonly unsure = new Set<E>();

  /** The types a heartbeat lists, gathered here: reused, so an unchanged heartbeat allocates nothing. */
  private readonly listed = new Set<string>();

  /**
   * `entry`'s workers as its last heartbeat listed them; true when the types they run changed.
   * A heartbeat that lists no worker at all (the distributor just started, none registered yet)
   * changes nothing: its workers are coming back, and what they ran is kept until they say (a
   * task of such a type waits there, not placed elsewhere to fail as unknown). Workers listed
   * dead count: the types only they ran are dropped.
   */
  set(entry: E, workers: readonly WorkerSummary[]): boolean {
    if (workers.length === 0) {
      this.unsure.delete(entry);
      return false;
    }
    const listed = this.listed;
    listed.clear();
    let unsure = false;
    for (const w of workers) {
      if (w.status === "dead") continue;
      if (w.task_types.length === 0) unsure = true;
      for (const t of w.task_types) listed.add(t);
    }
    if (unsure) this.unsure.add(entry);
    else this.unsure.delete(entry);
    return this.take(entry, listed);
  }

  /**
   * `entry`'s types as the store remembers them (a coordinator that starts, or learns of a
   * distributor it has not heard: see DistributorRoster.restore), until its heartbeats say.
   */
  remember(entry: E, types: readonly string[]): void {
    const listed = this.listed;
    listed.clear();
    for (const t of types) listed.add(t);
    this.take(entry, listed);
  }

  /** The types `entry`'s live workers run, as last known (empty: none known). */
  typesOfEntry(entry: E): ReadonlySet<string> {
    return this.typesOf.get(entry) ?? NONE;
  }

  /** `entry` runs `listed` now: true when that changed. */
  private take(entry: E, listed: ReadonlySet<string>): boolean {
    const prev = this.typesOf.get(entry) ?? NONE;
    if (sameTypes(listed, prev)) return false;
    const now: ReadonlySet<string> = listed.size === 0 ? NONE : new Set(listed);
    for (const t of prev) if (!now.has(t)) this.leave(t, entry);
    for (const t of now) {
      if (prev.has(t)) continue;
      let set = this.byType.get(t);
      if (set === undefined) {
        set = new Set();
        this.byType.set(t, set);
      }
      set.add(entry);
    }
    if (now.size === 0) this.typesOf.delete(entry);
    else this.typesOf.set(entry, now);
    return true;
  }

  /** Forgets `entry` (the distributor is forgotten). */
  remove(entry: E): void {
    this.unsure.delete(entry);
    for (const t of this.typesOf.get(entry) ?? NONE) this.leave(t, entry);
    this.typesOf.delete(entry);
  }

  /** The distributors with a live worker that said it runs `taskType` (undefined: none). */
  of(taskType: string): ReadonlySet<E> | undefined {
    return this.byType.get(taskType);
  }

  /**
   * Whether some entry `counts` (a healthy distributor) has a live worker whose types are not
   * known yet: such a distributor may run any type, so no type's runners are known for sure.
   */
  anyUnsure(counts: (entry: E) => boolean): boolean {
    for (const e of this.unsure) if (counts(e)) return true;
    return false;
  }

  private leave(taskType: string, entry: E): void {
    const set = this.byType.get(taskType);
    if (set === undefined) return;
    set.delete(entry);
    if (set.size === 0) this.byType.delete(taskType);
  }
}
