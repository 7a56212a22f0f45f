import type { TaskDict } from "../protocol.js";
import { PriorityLanes } from "../schedule-controls/priority-lanes.js";
import { hasExpired, runAtMs } from "../schedule-controls/task-schedule.js";

type Queued = { task: TaskDict; notBefore: number };

/**
 * Tasks held by the distributor and waiting for a worker: higher priority first (one lane per
 * level, 9 down to 0), first in first out within a lane, except that a retry waits for its
 * backoff (epoch ms) without holding up the tasks behind it. Strict: a lower lane waits while a
 * higher one has a task whose time has come (see docs/DESIGN.md, "Priorities"). Lane 0 is one
 * Map as the whole queue was before priorities: a task without one costs what it did.
 */
export class DispatchQueue {
  private readonly items = new PriorityLanes<Queued>();
  /** Items with a backoff: only these can make nextWakeUp() look through the queue. */
  private delayed = 0;

  get size(): number {
    return this.items.size;
  }

  has(taskId: string): boolean {
    return this.items.has(taskId);
  }

  push(task: TaskDict, notBefore = 0): void {
    this.delete(task.task_id);
    // A task placed before its run_at (the seed's explicit path, a clock ahead of ours) waits here.
    if (task.run_at !== undefined && runAtMs(task) > Date.now())
      notBefore = Math.max(notBefore, runAtMs(task));
    this.items.set(task.task_id, { task, notBefore });
    if (notBefore > 0) this.delayed++;
  }

  delete(taskId: string): boolean {
    const item = this.items.take(taskId);
    if (item === undefined) return false;
    if (item.notBefore > 0) this.delayed--;
    return true;
  }

  /** Takes up to `max` tasks whose time has come: the highest lane first, in order within each. */
  take(max: number, now = Date.now()): TaskDict[] {
    const out: TaskDict[] = [];
    if (max <= 0) return out;
    for (const lane of this.items.inOrder()) {
      for (const [id, item] of lane) {
        // Not started by its expires_at: never started now; the due sweep ends it, reconcile drops it.
        if (item.notBefore > now || hasExpired(item.task, now)) continue;
        this.delete(id);
        out.push(item.task);
        if (out.length >= max) return out;
      }
    }
    return out;
  }

  /** Epoch ms of the earliest backoff still running, if any. */
  nextWakeUp(now = Date.now()): number | null {
    if (this.delayed === 0) return null;
    let next: number | null = null;
    for (const item of this.items.values()) {
      if (item.notBefore > now && (next === null || item.notBefore < next)) next = item.notBefore;
    }
    return next;
  }

  ids(): string[] {
    return this.items.keys();
  }
}
