import type { TaskDict } from "../protocol.js";

type Queued = { task: TaskDict; notBefore: number };

/**
 * Tasks held by the distributor and waiting for a worker: first in, first out, except that a
 * retry waits for its backoff (epoch ms) without holding up the tasks behind it.
 */
export class DispatchQueue {
  private readonly items = new Map<string, Queued>();
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
    this.items.set(task.task_id, { task, notBefore });
    if (notBefore > 0) this.delayed++;
  }

  delete(taskId: string): boolean {
    const item = this.items.get(taskId);
    if (item === undefined) return false;
    if (item.notBefore > 0) this.delayed--;
    return this.items.delete(taskId);
  }

  /** Takes up to `max` tasks whose time has come, in order. */
  take(max: number, now = Date.now()): TaskDict[] {
    const out: TaskDict[] = [];
    for (const [id, item] of this.items) {
      if (out.length >= max) break;
      if (item.notBefore > now) continue;
      this.delete(id);
      out.push(item.task);
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
    return [...this.items.keys()];
  }
}
