import type { TaskLedger } from "../ledger/task-ledger.js";
import type { TaskRecord } from "../ledger/task-record.js";
import type { DispatchQueue } from "./dispatch-queue.js";
import type { HeldTasks } from "./held-tasks.js";
import type { WorkerRegistry } from "./worker-registry.js";

/** What adopting a record changes: the distributor's held tasks, its queue and its workers' attempts. */
export type AdoptionRoom = {
  distributorId: string;
  held: HeldTasks;
  queue: DispatchQueue;
  registry: WorkerRegistry;
};

/**
 * Holds a task as its record says, if the record says it is ours and not finished: queued when
 * pending, in flight on its worker (unconfirmed) when in progress.
 *
 * A record read while the task was held here may be older than what this distributor did since
 * the read left (a stale result's record, read while the task waited in the queue and answered
 * after the pump dispatched it again): when an attempt newer than the record's is in flight here
 * (its dispatch script out, fence -1, or a higher fence), the record is out of date and changes
 * nothing — queued again, the task would be dispatched a second time beside the attempt running.
 */
export function adoptRecord(room: AdoptionRoom, record: TaskRecord | null): void {
  if (record === null) return;
  const id = record.task.task_id;
  const open = record.task.status === "pending" || record.task.status === "in_progress";
  if (!open || record.distributor !== room.distributorId) {
    room.held.delete(id);
    room.queue.delete(id);
    return;
  }
  if (room.held.has(id) && newerAttemptHere(room.registry, id, record.fence)) return;
  room.held.take(record.task);
  if (record.task.status === "pending") {
    room.queue.push(record.task, record.notBefore ?? 0);
    return;
  }
  // In progress on a worker: give that worker one heartbeat timeout to confirm it.
  const workerId = record.task.assigned_to ?? "unknown";
  const worker = room.registry.get(workerId) ?? room.registry.upsert(workerId, { status: "recovering" });
  if (!worker.inFlight.has(id)) {
    worker.inFlight.set(id, { fence: record.fence, dispatchedAt: performance.now(), confirmed: false });
  }
}

/** Whether a worker here holds an attempt of the task newer than `fence` (or one whose dispatch is out). */
function newerAttemptHere(registry: WorkerRegistry, taskId: string, fence: number): boolean {
  for (const worker of registry.all()) {
    const flight = worker.inFlight.get(taskId);
    if (flight !== undefined && (flight.fence === -1 || flight.fence > fence)) return true;
  }
  return false;
}

/**
 * An assignment of a task already running (its dict says in_progress: assigned again to a
 * distributor restarted with the same id, while its first reconcile's read is out, say). Queued,
 * it would be dispatched a second time beside the attempt running, whose outcome would then be
 * refused: it is adopted from its record instead, as reconcile adopts it, in flight on its worker
 * under its fence. It is not held while the record is read: should the read fail, the next
 * reconcile finds it in the store and adopts it.
 */
export function adoptAssigned(
  ledger: Pick<TaskLedger, "get">,
  taskId: string,
  adopt: (record: TaskRecord | null) => void,
): void {
  void ledger.get(taskId).then(adopt, () => {});
}
