import type { CommitVerdict } from "../ledger/task-ledger.js";
import type { AttemptOutcomeWire, TaskDict } from "../protocol.js";

/** What the distributor's core tells as it acts (DistributorCore's `events`): all optional. */
export type DistributorEvents = {
  /** A result arrived from an attempt that no longer holds the task's fence, and was refused. */
  staleResult?: (outcome: AttemptOutcomeWire, workerId: string) => void;
  /** A result came from a worker the attempt was not dispatched to (`holder` runs it; null: not ours), and was refused. */
  foreignResult?: (outcome: AttemptOutcomeWire, workerId: string, holder: string | null) => void;
  workerDead?: (workerId: string, tasks: number) => void;
  committed?: (task: TaskDict, verdict: CommitVerdict) => void;
  /** An attempt failed and the task goes back to pending for another (its dict, when known, says the error). */
  retried?: (taskId: string, task: TaskDict | null) => void;
  /** No message could carry the task: its attempt is abandoned, or the report of its end left to the ledger. */
  unsendable?: (taskId: string, reason: string) => void;
  /**
   * What an attempt must carry (its graph's checkpoint, its inputs, its dependencies' outcomes)
   * could not be read: it is not sent, and is taken back after a heartbeat timeout to try again.
   */
  incompleteJob?: (taskId: string, reason: string) => void;
  /**
   * A dispatch pass ran past `boundMs` (a store call that does not answer): the next pass runs
   * without waiting for it; its own tasks wait for its answer.
   */
  passOverdue?: (boundMs: number) => void;
  /** Reconcile dropped a task Redis no longer gives us while an attempt of it ran on `workerId` (it is canceled there). */
  attemptDropped?: (workerId: string, taskId: string, fence: number) => void;
};

/** What the distributor's core counted since it started (its heartbeat's report carries them). */
export type DistributorStats = {
  dispatched: number;
  completed: number;
  failed: number;
  retried: number;
  staleRejected: number;
  /** Results refused because the attempt was dispatched to another worker (see AttemptHolders). */
  foreignRejected: number;
  reassigned: number;
  workersDead: number;
};
