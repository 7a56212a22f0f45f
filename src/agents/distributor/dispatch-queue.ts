import type { TaskDict } from "../protocol.js";
import { PriorityLanes } from "../schedule-controls/priority-lanes.js";
import { hasExpired, runAtMs } from "../schedule-controls/task-schedule.js";

/** `seq`: its place in its lane, rising from front to back (see putFirst). */
type Queued = { task: TaskDict; notBefore: number; seq: number };

/**
 * A task taken out (see take's `fits`) and the place it had in its lane, which putFirst puts it
 * back at. The place travels with the task in the dispatch plan: the queue keeps no record of a
 * task once taken (a record per task taken cost every dispatch for the rare failed one).
 */
export type TakenTask = { task: TaskDict; place?: number };

/** Which task types start only with a slot of the per-type limits (the distributor's LimitGate). */
export type TypeLimits = { readonly active: boolean; isLimited(taskType: string): boolean };

/**
 * Tasks held by the distributor and waiting for a worker: higher priority first (one lane per
 * level, 9 down to 0), first in first out within a lane, except that a retry waits for its
 * backoff (epoch ms) without holding up the tasks behind it. Strict: a lower lane waits while a
 * higher one has a task whose time has come (see docs/DESIGN.md, "Priorities"). Lane 0 is one
 * Map as the whole queue was before priorities: a task without one costs what it did.
 *
 * A task of a limited type (see limitBy) is offered, not taken: it keeps its place until the
 * limits admit it (`delete`) or refuse it (`putBack`, and it is offered again from the same
 * place). The wait is its type's, not its own: while a type waits (full, or out of rate) or has
 * tasks on offer, take() passes over its tasks and on to the others, so when it may start one
 * again the first of it in queue order is offered first. One walk serves every case (see take).
 */
export class DispatchQueue {
  private readonly items = new PriorityLanes<Queued>();
  /** Items with a backoff: only these can make nextWakeUp() look through the queue. */
  private delayed = 0;
  private limits: TypeLimits | undefined;
  /** Tasks offered to the limits and not yet admitted or refused: task id -> type. */
  private readonly offered = new Map<string, string>();
  /** Tasks on offer per type. */
  private readonly offering = new Map<string, number>();
  /** Types refused a slot: type -> epoch ms before which their tasks are not offered again. */
  private readonly waits = new Map<string, number>();
  /** Slots freed here, counted (see releases), and the count at each type's last one. */
  private freedCount = 0;
  private readonly lastFreed = new Map<string, number>();
  /** Tasks queued per type (waiting for their backoff or not): where a fitting take() may stop. */
  private readonly byType = new Map<string, number>();
  /** Places handed out, from front to back; and before the front, to tasks put back without one (see putFirst). */
  private nextSeq = 0;
  private frontSeq = 0;

  get size(): number {
    return this.items.size;
  }

  has(taskId: string): boolean {
    return this.items.has(taskId);
  }

  /** The per-type limits: tasks of the types they limit are offered in place, not taken. */
  limitBy(limits: TypeLimits): void {
    this.limits = limits;
  }

  push(task: TaskDict, notBefore = 0, seq = this.nextSeq++): void {
    this.delete(task.task_id);
    // A task placed before its run_at (a coordinator's clock ahead of ours) waits here, if it
    // never started: one started early (the seed's explicit path) and taken back runs at once.
    if (task.run_at !== undefined && task.attempts === 0 && runAtMs(task) > Date.now())
      notBefore = Math.max(notBefore, runAtMs(task));
    this.items.set(task.task_id, { task, notBefore, seq });
    this.byType.set(task.task_type, (this.byType.get(task.task_type) ?? 0) + 1);
    if (notBefore > 0) this.delayed++;
  }

  /**
   * Queues tasks taken and not started (their dispatch failed) back in the places they were
   * taken from — behind the tasks that were ahead of them and stayed (a pass skips the tasks of
   * a type only busy workers run), ahead of the rest — so a store outage does not reorder the
   * queue. Each goes back to the `place` take() gave it with it (see TakenTask); one without a
   * place (not taken from here) goes to the front of its lane.
   */
  putFirst(taken: ReadonlyArray<TakenTask>): void {
    for (let i = taken.length - 1; i >= 0; i--) {
      const { task, place } = taken[i]!;
      this.push(task, 0, place ?? --this.frontSeq);
    }
    this.items.reorder(
      taken.map((t) => t.task.task_id),
      (item) => item.seq,
    );
  }

  /**
   * The queued tasks of `taskType` whose time has come (not in a retry's backoff), in queue
   * order: a walk of the queue, for rare questions (a hand-back).
   */
  dueOfType(taskType: string, now = Date.now()): TaskDict[] {
    const out: TaskDict[] = [];
    if (!this.byType.has(taskType)) return out;
    for (const lane of this.items.inOrder())
      for (const [, item] of lane)
        if (item.task.task_type === taskType && item.notBefore <= now) out.push(item.task);
    return out;
  }

  /**
   * Moves a queued task (not on offer) to the back of its lane, its backoff kept: the order of
   * an assignment message that came after the task was adopted from the store in no order.
   */
  toBack(taskId: string): void {
    if (this.offered.has(taskId)) return;
    const item = this.items.take(taskId);
    if (item !== undefined) this.items.set(taskId, { ...item, seq: this.nextSeq++ });
  }

  delete(taskId: string): boolean {
    if (this.offered.size > 0) this.unoffer(taskId);
    const item = this.items.take(taskId);
    if (item === undefined) return false;
    const type = item.task.task_type;
    const left = this.byType.get(type)! - 1;
    if (left > 0) this.byType.set(type, left);
    else this.byType.delete(type);
    if (item.notBefore > 0) this.delayed--;
    return true;
  }

  /**
   * Takes up to `max` tasks whose time has come: the highest lane first, in order within each.
   * Tasks of limited types among them stay queued, on offer, until `delete` or `putBack`.
   *
   * With `fits` (the pump's DispatchPlanner), only tasks it takes are taken, each told with its
   * place (for putFirst, should its dispatch fail: see TakenTask): one it refuses (only
   * busy workers run its type) keeps its place, and so do the rest of its type, passed over
   * without asking again — when a worker of that type frees a slot, the first of the type in
   * queue order starts first. The walk ends once every task left is of a type refused (counted
   * per type), so a deep backlog of a busy type is not walked through for every slot freed.
   */
  take(max: number, now = Date.now(), fits?: (task: TaskDict, place: number) => boolean): TaskDict[] {
    const out: TaskDict[] = [];
    if (max <= 0) return out;
    const limits = this.limits?.active === true ? this.limits : undefined;
    /** Types offered in this call: their next tasks follow in order. */
    const offeredNow = new Set<string>();
    const scan = new TypeScan(this.byType, this.items.size);
    for (const lane of this.items.inOrder()) {
      for (const [id, item] of lane) {
        const type = item.task.task_type;
        if (scan.refused(type)) continue;
        scan.visit();
        // Not started by its expires_at: never started now; the due sweep ends it, reconcile drops it.
        if (item.notBefore > now || hasExpired(item.task, now) || this.offered.has(id)) {
          scan.pass(type);
          if (scan.done) return out;
          continue;
        }
        const limited = limits?.isLimited(type) === true;
        if (limited && !offeredNow.has(type) && !this.mayOffer(type, now)) {
          scan.refuse(type); // its type waits: none of it is offered in this call
        } else if (fits !== undefined && !fits(item.task, item.seq)) {
          scan.refuse(type);
        } else {
          if (limited) {
            offeredNow.add(type);
            this.offered.set(id, type);
            this.offering.set(type, (this.offering.get(type) ?? 0) + 1);
            scan.pass(type); // on offer, still queued
          } else this.delete(id);
          out.push(item.task);
          if (out.length >= max) return out;
        }
        if (scan.done) return out;
      }
    }
    return out;
  }

  /** Whether a type's next task may be offered: none of it on offer, and no wait running. */
  private mayOffer(type: string, now: number): boolean {
    if (this.offering.has(type)) return false; // what is on offer is answered first, in order
    const until = this.waits.get(type);
    if (until === undefined) return true;
    if (until > now) return false;
    this.waits.delete(type);
    return true;
  }

  private unoffer(taskId: string): void {
    const type = this.offered.get(taskId);
    if (type === undefined) return;
    this.offered.delete(taskId);
    const n = this.offering.get(type)! - 1;
    if (n > 0) this.offering.set(type, n);
    else this.offering.delete(type);
  }

  /** Whether any task is on offer. */
  get offers(): boolean {
    return this.offered.size > 0;
  }

  isOffered(taskId: string): boolean {
    return this.offered.has(taskId);
  }

  /** A count that moves each time a slot is freed here: take it before asking for slots (see putBack). */
  get releases(): number {
    return this.freedCount;
  }

  /**
   * A task on offer was refused a slot: it stays in its place, and no task of its type is
   * offered before `until` (epoch ms) — unless a slot of its type was freed here since
   * `releases` was `since` (the refusal may predate it). A task no longer on offer (deleted
   * meanwhile: moved, canceled) is not queued again.
   */
  putBack(taskId: string, until: number, since: number): void {
    const type = this.offered.get(taskId);
    if (type === undefined) return;
    this.unoffer(taskId);
    if ((this.lastFreed.get(type) ?? 0) > since) return;
    // Several refusals in one answer (only one answer per type is awaited at a time): the type
    // tries again at the earliest of their times.
    const current = this.waits.get(type);
    if (current === undefined || until < current) this.waits.set(type, until);
  }

  /** A slot of `taskType` was freed here: its first task may be offered at once. */
  freed(taskType: string): void {
    this.lastFreed.set(taskType, ++this.freedCount);
    this.waits.delete(taskType);
  }

  /**
   * The tasks of limited types whose time has come, per type: those waiting for a slot (on offer
   * or not), as the limits report them. A pass over the queue, every few seconds.
   */
  waitingByType(isLimited: (taskType: string) => boolean, now = Date.now()): Map<string, number> {
    const counts = new Map<string, number>();
    for (const lane of this.items.inOrder()) {
      for (const item of lane.values()) {
        if (item.notBefore > now || hasExpired(item.task, now)) continue;
        const type = item.task.task_type;
        if (isLimited(type)) counts.set(type, (counts.get(type) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** Epoch ms of the earliest backoff or type wait still running, if any. */
  nextWakeUp(now = Date.now()): number | null {
    if (this.delayed === 0 && this.waits.size === 0) return null;
    let next: number | null = null;
    for (const [type, until] of this.waits) {
      if (until <= now) this.waits.delete(type);
      else if (next === null || until < next) next = until;
    }
    if (this.delayed === 0) return next;
    for (const item of this.items.values()) {
      if (item.notBefore > now && (next === null || item.notBefore < next)) next = item.notBefore;
    }
    return next;
  }

  ids(): string[] {
    return this.items.keys();
  }
}

/**
 * One take()'s walk, counted per type: the tasks not yet visited, less those of the types
 * refused in it (visited or not), so that the walk stops when none is left that could start.
 * A type's unvisited tasks are read off the queue's live count when it is refused: those of it
 * still queued, less those visited and left in place (`pass`: waiting for their time, on offer,
 * and the refused one itself). Nothing is counted per task taken.
 */
class TypeScan {
  private left: number;
  private readonly passed = new Map<string, number>();
  private readonly closed = new Set<string>();

  constructor(
    private readonly queued: ReadonlyMap<string, number>,
    size: number,
  ) {
    this.left = size;
  }

  refused(type: string): boolean {
    return this.closed.size > 0 && this.closed.has(type);
  }

  visit(): void {
    this.left--;
  }

  /** A task visited and left in its place (it stays queued). */
  pass(type: string): void {
    this.passed.set(type, (this.passed.get(type) ?? 0) + 1);
  }

  /** No task of `type` starts in this walk (the one just visited is left in place): those not visited no longer count. */
  refuse(type: string): void {
    this.pass(type);
    this.closed.add(type);
    this.left -= (this.queued.get(type) ?? 0) - (this.passed.get(type) ?? 0);
  }

  get done(): boolean {
    return this.left <= 0;
  }
}
