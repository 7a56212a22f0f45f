import type { TaskDict } from "../protocol.js";
import { hasExpired, MAX_PRIORITY, priorityOf, runAtMs } from "../schedule-controls/task-schedule.js";

type Queued = { task: TaskDict; notBefore: number };

/**
 * Tasks held by the distributor and waiting for a worker: higher priority first (one lane per
 * level, 9 down to 0), first in first out within a lane, except that a retry waits for its
 * backoff (epoch ms) without holding up the tasks behind it. Strict: a lower lane waits while a
 * higher one has a task whose time has come (see docs/DESIGN.md, "Priorities"). Lane 0 is one
 * Map as the whole queue was before priorities: a task without one costs what it did.
 */
export class DispatchQueue {
  /** Priority 0 (no priority). */
  private readonly plain = new Map<string, Queued>();
  /** Priorities 1..9, by index; index 0 unused. */
  private readonly lanes: Array<Map<string, Queued>> = Array.from(
    { length: MAX_PRIORITY + 1 },
    () => new Map(),
  );
  /** The lane of each task queued above priority 0. */
  private readonly laneOf = new Map<string, number>();
  /** Items with a backoff: only these can make nextWakeUp() look through the queue. */
  private delayed = 0;

  get size(): number {
    return this.plain.size + this.laneOf.size;
  }

  has(taskId: string): boolean {
    return this.plain.has(taskId) || this.laneOf.has(taskId);
  }

  push(task: TaskDict, notBefore = 0): void {
    this.delete(task.task_id);
    // A task placed before its run_at (the seed's explicit path, a clock ahead of ours) waits here.
    if (task.run_at !== undefined && runAtMs(task) > Date.now())
      notBefore = Math.max(notBefore, runAtMs(task));
    const lane = Math.min(MAX_PRIORITY, priorityOf(task));
    if (lane > 0) {
      this.lanes[lane]!.set(task.task_id, { task, notBefore });
      this.laneOf.set(task.task_id, lane);
    } else this.plain.set(task.task_id, { task, notBefore });
    if (notBefore > 0) this.delayed++;
  }

  delete(taskId: string): boolean {
    let items = this.plain;
    let item = items.get(taskId);
    if (item === undefined) {
      const lane = this.laneOf.get(taskId);
      if (lane === undefined) return false;
      items = this.lanes[lane]!;
      item = items.get(taskId)!;
      this.laneOf.delete(taskId);
    }
    if (item.notBefore > 0) this.delayed--;
    return items.delete(taskId);
  }

  /** Takes up to `max` tasks whose time has come: the highest lane first, in order within each. */
  take(max: number, now = Date.now()): TaskDict[] {
    const out: TaskDict[] = [];
    if (this.laneOf.size > 0)
      for (let lane = MAX_PRIORITY; lane > 0 && out.length < max; lane--)
        this.takeFrom(this.lanes[lane]!, max, now, out);
    if (out.length < max) this.takeFrom(this.plain, max, now, out);
    return out;
  }

  private takeFrom(items: Map<string, Queued>, max: number, now: number, out: TaskDict[]): void {
    for (const [id, item] of items) {
      if (out.length >= max) break;
      // Not started by its expires_at: never started now; the due sweep ends it, reconcile drops it.
      if (item.notBefore > now || hasExpired(item.task, now)) continue;
      this.delete(id);
      out.push(item.task);
    }
  }

  /** Epoch ms of the earliest backoff still running, if any. */
  nextWakeUp(now = Date.now()): number | null {
    if (this.delayed === 0) return null;
    let next: number | null = null;
    for (const items of [this.plain, ...this.lanes]) {
      for (const item of items.values()) {
        if (item.notBefore > now && (next === null || item.notBefore < next)) next = item.notBefore;
      }
    }
    return next;
  }

  ids(): string[] {
    return [...this.plain.keys(), ...this.laneOf.keys()];
  }
}
