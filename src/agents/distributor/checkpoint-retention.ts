import type { StoreCheckpointSaver } from "../../core/state/checkpoint/store-checkpoint-saver.js";
import { isTerminalStatus } from "../../core/state/status.js";
import type { TaskLedger } from "../ledger/task-ledger.js";

/** Statuses read per store round trip. */
const READ_BATCH = 500;

/**
 * The checkpoints workers relay for their graph tasks are kept without a time to live while
 * the task may run again (retried, moved, waiting for input for as long as it waits). Once the
 * task has ended — committed here, canceled, abandoned, its wait for input run out, however
 * it ended — its thread gets the record's retention and goes with it. This finds those threads:
 * every thread kept forever whose task's record says it ended, or whose record is gone already
 * (memory:// drops the oldest finished records early) if the thread is fenced — a distributor's:
 * one a program keeps through its own saver on the same store has no fence, and is left alone.
 * Resolves with the number of threads given a time to live.
 */
export async function expireEndedThreads(
  checkpoints: StoreCheckpointSaver,
  ledger: TaskLedger,
  retentionMs: number = ledger.retentionMs,
): Promise<number> {
  let expired = 0;
  for await (const ids of checkpoints.threadsKeptForever()) {
    for (let from = 0; from < ids.length; from += READ_BATCH) {
      const slice = ids.slice(from, from + READ_BATCH);
      const statuses = await Promise.all(slice.map((id) => ledger.status(id)));
      const done = await Promise.all(
        slice.map((id, i) => {
          const status = statuses[i];
          if (status === null || status === undefined) return checkpoints.expireThread(id, retentionMs, true); // record gone: ours only
          return isTerminalStatus(status) ? checkpoints.expireThread(id, retentionMs) : false;
        }),
      );
      expired += done.filter(Boolean).length;
    }
  }
  return expired;
}
