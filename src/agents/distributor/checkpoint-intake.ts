import type { JsonValue } from "../../core/json.js";
import type { Logger } from "../../core/logger.js";
import type { A2AMessage } from "../../core/messaging/index.js";
import type { StoreCheckpointSaver } from "../../core/state/index.js";
import type { PayloadOf } from "../protocol.js";
import { StaleCheckpoints } from "./stale-checkpoints.js";

export type CheckpointIntakeOptions = {
  checkpoints: StoreCheckpointSaver;
  /** How long a task's records are kept once it ended (the ledger's retention). */
  retentionMs: () => number;
  /** Whether `workerId` runs attempt `fence` of `taskId` now (AttemptHolders.holds). */
  holds: (workerId: string, taskId: string, fence: number) => Promise<boolean>;
  /** Refuses, as unauthorized, what a sender may not say (A2AClient.refuseUnauthorized); `quiet`: counted only. */
  refuse: (refused: { sender: string; requestId: string | null; detail: string }, quiet: boolean) => void;
  log: Logger;
};

/**
 * The distributor's side of its tasks' graph threads: the checkpoints its workers send are
 * stored, fenced, one after another per task (an attempt's outcome is committed once they are,
 * see ResultCommits), a stale attempt's refused; and a task's thread is fenced and exported for
 * its next attempt.
 */
export class CheckpointIntake {
  /** Checkpoints being stored now, by task: an outcome of the task is committed after them. */
  private readonly storing = new Map<string, Promise<void>>();
  /** Checkpoints of attempts taken back: each refused, the first of each attempt logged. */
  private readonly stale = new StaleCheckpoints();

  constructor(private readonly o: CheckpointIntakeOptions) {}

  /** What of `taskId`'s checkpoints is being stored now (undefined: nothing). */
  storingOf(taskId: string): Promise<void> | undefined {
    return this.storing.get(taskId);
  }

  /** Takes a worker's checkpoint; resolves once it is stored (or refused). */
  receive(message: A2AMessage, p: PayloadOf<"checkpoint">): Promise<void> {
    // Known at once (before the first await): the attempt's outcome, which the worker sends
    // after this, is committed only once this is stored (ResultCommits). A task's checkpoints
    // are stored one after another, in the order its worker sent them: the thread's head is
    // the one stored last, and one stored out of order would put an older one at the head
    // (the resume would then start from there). The commit waits for the last of them.
    const earlier = this.storing.get(p.task_id);
    const storing =
      earlier === undefined ? this.store(message, p) : earlier.then(() => this.store(message, p));
    const tracked = storing.then(
      () => {},
      () => {},
    );
    this.storing.set(p.task_id, tracked);
    void tracked.then(() => {
      if (this.storing.get(p.task_id) === tracked) this.storing.delete(p.task_id);
    });
    return storing;
  }

  /** Fences the task's graph thread for the new attempt (older attempts can no longer write), then exports it. */
  async forAttempt(taskId: string, fence: number): Promise<JsonValue | null> {
    await this.o.checkpoints.fenceThread(taskId, fence, this.o.retentionMs());
    const transfers = await this.o.checkpoints.exportThread(taskId);
    return transfers.length ? (transfers as unknown as JsonValue) : null;
  }

  /** Stores a worker's checkpoint of an attempt it runs (refused, and said so, otherwise). */
  private async store(message: A2AMessage, p: PayloadOf<"checkpoint">): Promise<void> {
    if (!(await this.o.holds(message.sender, p.task_id, p.fence))) {
      const first = this.stale.first(message.sender, p.task_id, p.fence);
      const detail = `checkpoint of task ${p.task_id} (fence ${p.fence}) from ${message.sender}, which does not run it (its further checkpoints are refused without a log line)`;
      this.o.refuse({ sender: message.sender, requestId: message.metadata.request_id, detail }, !first);
      return;
    }
    const stored = await this.o.checkpoints.importTransfer(p.checkpoint, {
      threadId: p.task_id,
      fencingToken: p.fence,
    });
    if (!stored && this.stale.first(message.sender, p.task_id, p.fence))
      this.o.log.warn(
        { task: p.task_id, fence: p.fence, worker: message.sender },
        "refused a checkpoint from a stale attempt (its further ones are refused without a log line)",
      );
  }
}
