import type { TaskLedger } from "../ledger/task-ledger.js";
import type { AgentPayload, AttemptCancelWire } from "../protocol.js";

export type AttemptCancelerOptions = {
  ledger: TaskLedger;
  send: (distributorId: string, payload: AgentPayload) => Promise<void>;
  /** Told when a cancel could not be passed on (the distributor's reconcile still finds it). */
  unsent?: (distributorId: string, err: unknown) => void;
};

/**
 * The coordinator's side of "cancellation reaches the running attempt". Once a task is
 * abandoned (its fence moved on in the same step), the record names the distributor that
 * held it and the worker of its last attempt; that distributor is sent `cancel_attempts`,
 * which it passes on to the worker, whose attempt's ctx.signal fires. The abandon is what
 * counts: a cancel message that is lost changes nothing but the handler's waste, and the
 * distributor's reconcile (which drops the task) sends the worker the same cancel later.
 * Tasks abandoned in the same tick go out as one message per distributor.
 */
export class AttemptCanceler {
  private pending: string[] = [];

  constructor(private readonly o: AttemptCancelerOptions) {}

  /** A task this coordinator just abandoned (canceled, or ended for another reason). */
  abandoned(taskId: string): void {
    this.pending.push(taskId);
    if (this.pending.length === 1) queueMicrotask(() => void this.flush().catch(() => {}));
  }

  private async flush(): Promise<void> {
    const ids = this.pending;
    this.pending = [];
    const records = await Promise.all(ids.map((id) => this.o.ledger.get(id)));
    const byDistributor = new Map<string, AttemptCancelWire[]>();
    for (const record of records) {
      // An attempt ran when it was abandoned only if the record still names its worker.
      if (record === null || record.distributor === null || !record.task.assigned_to) continue;
      const list = byDistributor.get(record.distributor) ?? [];
      list.push({ task_id: record.task.task_id, fence: record.fence, worker: record.task.assigned_to });
      byDistributor.set(record.distributor, list);
    }
    await Promise.all(
      [...byDistributor].map(([distributorId, tasks]) =>
        this.o
          .send(distributorId, { kind: "cancel_attempts", tasks })
          .catch((err: unknown) => this.o.unsent?.(distributorId, err)),
      ),
    );
  }
}
