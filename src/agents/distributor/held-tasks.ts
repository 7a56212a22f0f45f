import type { TaskDict } from "../protocol.js";

/**
 * Every task a distributor holds (queued or in flight), by id — and, while a read of the
 * ledger is out, which came in meanwhile. A reconcile's read may predate them: a task recorded
 * here after Redis answered the read, whose assignment is handled before the reply is, is held
 * but not in the reply, and must not be dropped for it.
 */
export class HeldTasks extends Map<string, TaskDict> {
  /** The ids taken in during each read in progress (one set per read). */
  private readonly reads = new Set<Set<string>>();

  /** A task held from now on (assigned, adopted): noted by every read in progress. */
  take(task: TaskDict): void {
    this.set(task.task_id, task);
    if (this.reads.size > 0) for (const taken of this.reads) taken.add(task.task_id);
  }

  /** What `read` answers, and the ids taken in while it was out. */
  async whileReading<T>(read: () => Promise<T>): Promise<{ value: T; taken: Set<string> }> {
    const taken = new Set<string>();
    this.reads.add(taken);
    try {
      return { value: await read(), taken };
    } finally {
      this.reads.delete(taken);
    }
  }

  /** The first `limit` task dicts held. */
  first(limit: number): TaskDict[] {
    const out: TaskDict[] = [];
    for (const task of this.values()) {
      if (out.length >= limit) break;
      out.push(task);
    }
    return out;
  }
}
