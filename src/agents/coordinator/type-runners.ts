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
  /**
   * Per type, the entries whose last live worker of it went (died, or left the list: a
   * distributor restarted without its workers), and when: remembered as its runners for
   * `rememberMs()` (the dead-agent retention), as the distributor itself waits for a dead worker
   * of the type it remembers (dispatch-plan.ts). Dropped when a live worker runs it there again.
   */
  private readonly lost = new Map<string, Map<E, number>>();
  /** Entries some of whose remembered types ran past `rememberMs()` since the last expireLost. */
  private readonly lapsed = new Set<E>();

  constructor(
    /** How long an entry whose workers of a type went is remembered as running it. */
    readonly rememberMs: () => number,
    private readonly clock: () => number = () => performance.now(),
  ) {}
  /** Entries with a live worker that has not said yet what it runs: it may run any type. */
  private readonly unsure = new Set<E>();

  /** The types a heartbeat lists, gathered here: reused, so an unchanged heartbeat allocates nothing. */
  private readonly listed = new Set<string>();

  /**
   * `entry`'s workers as its last heartbeat listed them; true when the types they run changed.
   * Workers listed dead count: the types only they ran are dropped (remembered, see lost), as
   * are all its types when it lists no worker at all (it just started, none registered yet:
   * remembered for the retention, its tasks wait there, not placed elsewhere to fail as unknown).
   */
  set(entry: E, workers: readonly WorkerSummary[]): boolean {
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

  /**
   * The store's types for an `entry` heard already (its heartbeat came before the store was
   * read): those its live workers do not run are remembered from now, as if they had just gone
   * (the store keeps the types a distributor is remembered for too: see runsOrRan). One
   * remembered already keeps its time.
   */
  rememberGone(entry: E, types: readonly string[]): void {
    const runs = this.typesOf.get(entry) ?? NONE;
    for (const t of types) if (!runs.has(t) && this.lost.get(t)?.has(entry) !== true) this.wentFrom(t, entry);
  }

  /** The types `entry`'s live workers run, as last known (empty: none known). */
  typesOfEntry(entry: E): ReadonlySet<string> {
    return this.typesOf.get(entry) ?? NONE;
  }

  /**
   * The types `entry` is taken to run, sorted: those its live workers run, and those it is
   * remembered for (its last live worker of the type went within `rememberMs()`; see lost). What
   * the store keeps for a coordinator that starts meanwhile (DistributorRoster.saveTypes).
   */
  runsOrRan(entry: E): string[] {
    const types = new Set(this.typesOf.get(entry) ?? NONE);
    const since = this.clock() - this.rememberMs();
    for (const [t, entries] of this.lost) {
      const at = entries.get(entry);
      if (at !== undefined && at >= since) types.add(t);
    }
    return [...types].sort();
  }

  /**
   * Forgets the remembered runners past `rememberMs()`; the entries that lost some that way
   * (here, or in a remembered() call since the last time): what they run or ran changed.
   */
  expireLost(): E[] {
    for (const t of [...this.lost.keys()]) this.remembered(t);
    const out = [...this.lapsed];
    this.lapsed.clear();
    return out;
  }

  /** `entry` runs `listed` now: true when that changed. */
  private take(entry: E, listed: ReadonlySet<string>): boolean {
    const prev = this.typesOf.get(entry) ?? NONE;
    if (sameTypes(listed, prev)) return false;
    const now: ReadonlySet<string> = listed.size === 0 ? NONE : new Set(listed);
    for (const t of prev) {
      if (now.has(t)) continue;
      this.leave(t, entry);
      this.wentFrom(t, entry);
    }
    for (const t of now) {
      if (prev.has(t)) continue;
      this.lost.get(t)?.delete(entry);
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
    this.lapsed.delete(entry);
    for (const t of this.typesOf.get(entry) ?? NONE) this.leave(t, entry);
    this.typesOf.delete(entry);
    for (const [t, entries] of this.lost) {
      entries.delete(entry);
      if (entries.size === 0) this.lost.delete(t);
    }
  }

  /** The distributors with a live worker that said it runs `taskType` (undefined: none). */
  of(taskType: string): ReadonlySet<E> | undefined {
    return this.byType.get(taskType);
  }

  /**
   * The distributors none of whose live workers runs `taskType` now, but whose last one that did
   * went within `rememberMs()` (dead, or not listed since the distributor restarted): it may come
   * back there. Undefined: none. Those remembered longer are forgotten here.
   */
  remembered(taskType: string): ReadonlyMap<E, number> | undefined {
    const entries = this.lost.get(taskType);
    if (entries === undefined) return undefined;
    const since = this.clock() - this.rememberMs();
    for (const [e, at] of entries) {
      if (at >= since) continue;
      entries.delete(e);
      this.lapsed.add(e);
    }
    if (entries.size > 0) return entries;
    this.lost.delete(taskType);
    return undefined;
  }

  /**
   * Whether some entry `counts` (a healthy distributor) has a live worker whose types are not
   * known yet: such a distributor may run any type, so no type's runners are known for sure.
   */
  anyUnsure(counts: (entry: E) => boolean): boolean {
    for (const e of this.unsure) if (counts(e)) return true;
    return false;
  }

  private wentFrom(taskType: string, entry: E): void {
    let entries = this.lost.get(taskType);
    if (entries === undefined) {
      entries = new Map();
      this.lost.set(taskType, entries);
    }
    entries.set(entry, this.clock());
  }

  private leave(taskType: string, entry: E): void {
    const set = this.byType.get(taskType);
    if (set === undefined) return;
    set.delete(entry);
    if (set.size === 0) this.byType.delete(taskType);
  }
}
