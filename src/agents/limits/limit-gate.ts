import type { TaskTypeLimit } from "./limit-spec.js";
import type { LimitStore } from "./limit-store.js";
import { RepeatAfter } from "./repeat-after.js";

export type LimitGateOptions = {
  distributorId: string;
  /** How often the limits are read again (besides at once on each change notice: this bounds a lost notice). */
  refreshMs?: number;
  /** How long a task refused for a full concurrency waits before it asks again. */
  fullRetryMs?: number;
  /** Whether the distributor still holds a task (waiting counts forget the others). */
  isHeld?: (taskId: string) => boolean;
  /** Hears the limited types (sorted) after each read that changed them (the CLI's --history records them). */
  limitedTypesChanged?: (types: string[]) => void;
};

type Planned = { task: { task_id: string; task_type: string } };
/** A reserved slot whose attempt did not start. */
type Unbound = { taskId: string; taskType: string; fence: null };
/** Slots granted under one reservation, for these task ids, not yet bound to attempts. */
export type ReservedSlots = { reservation: string; ids: Set<string> };

/** How long limited tasks wait when the store could not say whether they may start. */
const STORE_RETRY_MS = 200;

/**
 * A distributor's side of the per-task-type limits: it knows which types are limited from a
 * small record read every few seconds, so a task of an unlimited type passes with no store call
 * at all; a task of a limited type starts only with a slot taken in the store (acquire before
 * the dispatch script, bound to the attempt's fence after it), and gives it back when its
 * attempt is committed or taken back. Slots of attempts that end any other way (a dead
 * distributor, a move, a cancel) are freed by the coordinator's SlotSweeper.
 */
export class LimitGate {
  private types = new Map<string, TaskTypeLimit>();
  /** Slots held here: task id -> the fence of the attempt holding it. */
  private readonly slots = new Map<string, string>();
  /** Tasks refused a slot at their last try: task id -> type (reported as waiting). */
  private readonly waiting = new Map<string, string>();
  private reported = new Set<string>();
  /** The queue's count of waiting tasks per type, when the distributor gave one (countWaitingWith). */
  private queued: ((isLimited: (taskType: string) => boolean) => Map<string, number>) | undefined;
  private readonly refreshing: RepeatAfter;
  private readonly fullRetryMs: number;
  /** The read a change notice asked for, until it is done (see changed). */
  private catchingUp: Promise<void> | undefined;
  /** Slots of dispatches that failed outright, to give back when the store answers (see giveBack). */
  private unreturned: Array<{ reservation: string; items: Unbound[] }> = [];
  /** Reads started and the latest one applied: an older read finishing last must not win. */
  private readsStarted = 0;
  private readApplied = 0;

  constructor(
    private readonly store: LimitStore,
    private readonly o: LimitGateOptions,
  ) {
    this.refreshing = new RepeatAfter(o.refreshMs ?? 2000, () => this.refresh());
    this.fullRetryMs = o.fullRetryMs ?? 100;
  }

  /** True when some type is limited: only then does dispatch go through the gate. */
  get active(): boolean {
    return this.types.size > 0;
  }

  isLimited(taskType: string): boolean {
    return this.types.has(taskType);
  }

  /**
   * While a read asked for by a change notice is out: dispatch waits for it (a few ms, only
   * then), so a type limited a moment ago is not started as unlimited. Otherwise undefined.
   */
  get settling(): Promise<void> | undefined {
    return this.catchingUp;
  }

  /** Hears every limit change at once (then reads the limits now), then every refreshMs. */
  async start(): Promise<void> {
    await this.store.listen(() => this.changed());
    await this.refreshing.startNow();
  }

  stop(): void {
    this.refreshing.stop();
    void this.store.unlisten();
  }

  /**
   * A limit was set or removed somewhere: read the limits again now, not at the next refresh.
   * A read already out may have read before the change, so this one starts after it.
   */
  changed(): void {
    const before = this.catchingUp ?? Promise.resolve();
    const read: Promise<void> = before
      .then(() => this.refresh())
      .catch(() => {}) // the periodic refresh tries again
      .finally(() => {
        if (this.catchingUp === read) this.catchingUp = undefined;
      });
    this.catchingUp = read;
  }

  /**
   * Counts this distributor's waiting tasks per limited type with `count` (its queue) instead of
   * by the refusals: a task of a type that waits is not asked for a slot until its turn, so the
   * refusals alone would count only the first few.
   */
  countWaitingWith(count: (isLimited: (taskType: string) => boolean) => Map<string, number>): void {
    this.queued = count;
  }

  /** Reads the limited types, reporting this distributor's waiting tasks per type. */
  async refresh(): Promise<void> {
    let counts: Map<string, number>;
    if (this.queued !== undefined) {
      this.waiting.clear();
      const types = this.types;
      counts = types.size === 0 ? new Map() : this.queued((t) => types.has(t));
    } else counts = this.refusedCounts();
    for (const type of this.reported) if (!counts.has(type)) counts.set(type, 0);
    if (this.unreturned.length > 0) await this.returnSlots();
    const seq = ++this.readsStarted;
    const { limits } = await this.store.read(this.o.distributorId, counts, false);
    if (seq < this.readApplied) return;
    this.readApplied = seq;
    this.reported = new Set([...counts].filter(([, n]) => n > 0).map(([t]) => t));
    const before = this.types;
    this.types = new Map(limits.map((l) => [l.task_type, l]));
    const changed = before.size !== this.types.size || [...before.keys()].some((t) => !this.types.has(t));
    if (changed) this.o.limitedTypesChanged?.([...this.types.keys()].sort());
  }

  /** The tasks refused a slot at their last try and still held, per type. */
  private refusedCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const [id, type] of this.waiting) {
      if (this.o.isHeld && !this.o.isHeld(id)) {
        this.waiting.delete(id);
        continue;
      }
      counts.set(type, (counts.get(type) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Splits a dispatch plan: what may start now (`slots`: the reservation its limited tasks hold
   * slots under), and what must wait, with the epoch ms before which it is not tried again. A
   * store that cannot answer makes everything limited wait a little.
   */
  async admit<P extends Planned>(
    plan: P[],
    now = Date.now(),
  ): Promise<{ admitted: P[]; slots?: ReservedSlots; refused: Array<{ item: P; notBefore: number }> }> {
    const limited = plan.filter((p) => this.types.has(p.task.task_type));
    if (limited.length === 0) return { admitted: plan, refused: [] };
    // Before the slot call: a task whose dispatch failed holds its slot until it is given back.
    if (this.unreturned.length > 0) await this.returnSlots();
    const acquired = await this.store
      .acquire(
        this.o.distributorId,
        limited.map((p) => ({ taskId: p.task.task_id, taskType: p.task.task_type })),
      )
      .catch(() => null);
    const ids = new Set<string>();
    const refused: Array<{ item: P; notBefore: number }> = [];
    limited.forEach((p, k) => {
      const v = acquired === null ? STORE_RETRY_MS : acquired.verdicts[k]!;
      if (v === 0 || v === "unlimited") {
        if (v === 0) ids.add(p.task.task_id);
        this.waiting.delete(p.task.task_id);
        return;
      }
      this.waiting.set(p.task.task_id, p.task.task_type);
      refused.push({ item: p, notBefore: now + (v === "full" ? this.fullRetryMs : v) });
    });
    const out = new Set(refused.map((r) => r.item));
    const admitted = plan.filter((p) => !out.has(p));
    if (acquired === null || ids.size === 0) return { admitted, refused };
    return { admitted, refused, slots: { reservation: acquired.reservation, ids } };
  }

  /**
   * After the dispatch script: binds each reserved slot to its attempt's fence (a verdict that is
   * no fence: the attempt did not start, the slot is freed). Answers the plan indexes of attempts
   * that started without a slot (the reservation was swept as stale and the type is full, or the
   * store did not answer): the caller takes them back.
   */
  async bind<P extends Planned>(
    slots: ReservedSlots,
    plan: P[],
    verdicts: Array<number | string>,
  ): Promise<number[]> {
    const at: number[] = [];
    const items = plan.flatMap((p, k) => {
      if (!slots.ids.has(p.task.task_id)) return [];
      at.push(k);
      const v = verdicts[k];
      return [
        { taskId: p.task.task_id, taskType: p.task.task_type, fence: typeof v === "number" ? v : null },
      ];
    });
    const bound = await this.store.bind(slots.reservation, items).catch(() => items.map(() => false));
    const unslotted: number[] = [];
    items.forEach((item, j) => {
      if (item.fence === null) return;
      if (bound[j]) this.slots.set(item.taskId, String(item.fence));
      else unslotted.push(at[j]!);
    });
    return unslotted;
  }

  /**
   * A dispatch that failed outright (the store refused the dispatch script or did not answer):
   * no attempt of the plan started here, so the slots reserved for it go back, and the starts
   * they counted against their types' rates (bind-slots-1.lua, "not started"). Should the store
   * not answer this either, they go back before the next slot call or read of the limits; a
   * give-back made twice gives back once (only a slot still held by the reservation gives its
   * start back). Never rejects.
   */
  giveBack<P extends Planned>(slots: ReservedSlots, plan: P[]): Promise<void> {
    const items: Unbound[] = plan
      .filter((p) => slots.ids.has(p.task.task_id))
      .map((p) => ({ taskId: p.task.task_id, taskType: p.task.task_type, fence: null }));
    if (items.length > 0) this.unreturned.push({ reservation: slots.reservation, items });
    return this.returnSlots();
  }

  /** Gives back the slots of failed dispatches; those the store did not take wait for the next try. */
  private async returnSlots(): Promise<void> {
    const out = this.unreturned;
    this.unreturned = [];
    await Promise.all(
      out.map((r) => this.store.bind(r.reservation, r.items).catch(() => void this.unreturned.push(r))),
    );
  }

  /**
   * The attempt (taskId, fence) is over here: its slot goes back if this distributor bound it,
   * or if its type is limited (an attempt adopted after a restart holds a slot this process
   * never bound; the release is compare-and-delete, so naming a slot it does not hold frees
   * nothing). A task of an unlimited type asks nothing. True when the attempt's type has a
   * concurrency limit: its next task may start now.
   */
  release(taskId: string, fence: number, taskType?: string): boolean {
    const value = String(fence);
    const bound = this.slots.get(taskId) === value;
    if (!bound && (taskType === undefined || !this.types.has(taskType))) return false;
    if (bound) this.slots.delete(taskId);
    void this.store.release(taskId, value).catch(() => {}); // the sweeper frees it if this is lost
    return taskType !== undefined && this.types.get(taskType)?.concurrency !== undefined;
  }
}
