import type { RedisClient } from "../../core/store/index.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import type { TaskDict } from "../protocol.js";
import { DueSweeper } from "./due-sweeper.js";
import { delayUntil } from "./task-schedule.js";

export type ScheduleControlsOptions = {
  store: RedisClient;
  ledger: TaskLedger;
  /** A delayed task whose run_at has come: place it. */
  place: (task: TaskDict) => void;
  /** A task the sweep ended abandoned "expired" (committed already): tell whoever waits. */
  expired: (task: TaskDict) => void;
  /** How often the sweep runs at least (default 1 s). */
  fallbackMs?: number;
};

/**
 * The coordinator's side of run_at and expires_at (SPEC "Scheduling controls"): a delayed task
 * is recorded in its shard's sorted set and on no distributor, and the due sweep (one timer per
 * process, see DueSweeper) places it when its time comes; a task not started by its expires_at
 * is ended by the same sweep. Priority needs nothing here: placement and dispatch read it from
 * the task dict (inPriorityOrder, DispatchQueue).
 */
export class ScheduleControls {
  private readonly sweeper: DueSweeper;

  constructor(private readonly o: ScheduleControlsOptions) {
    this.sweeper = new DueSweeper({
      store: o.store,
      shards: o.ledger.shards,
      retentionMs: o.ledger.retentionMs,
      released: (ids) => void this.read(ids, o.place),
      expired: (ids) => {
        // Committed by the sweep's script, outside the ledger's calls: its observer (the
        // history) is told here, as of a cancel cascade's walk.
        for (const id of ids) o.ledger.told({ op: "abandoned", task_id: id, reason: "expired" });
        void this.read(ids, o.expired);
      },
      ...(o.fallbackMs !== undefined ? { fallbackMs: o.fallbackMs } : {}),
    });
  }

  start(): void {
    this.sweeper.start();
  }

  /** Tasks waiting for their run_at in the whole store, as last counted (about once a second). */
  get delayed(): number {
    return this.sweeper.delayed;
  }

  stop(): void {
    this.sweeper.stop();
  }

  /**
   * True when the task's run_at is still ahead: it is (or is being) recorded delayed, and the
   * sweep will place it, so the caller must not. Arms the sweep for its time. Never for a task
   * that has started (run early): its dispatch took it out of the delayed set, and no sweep
   * would place it.
   */
  holdsBack(task: TaskDict, until = delayUntil(task)): boolean {
    if (until === null || task.attempts > 0) return false;
    this.sweeper.dueAt(until);
    return true;
  }

  /**
   * A task read back from the store (a restore, a resubmitted id adopted): true when the store
   * keeps it in the delayed index (`delayedUntil`, read with the record), so the sweep places it
   * (armed for then); false when it is in none — released by a sweep whose coordinator died
   * before placing it, made ready out of it — so the caller places it, whatever this process's
   * clock says of its run_at: no sweep would. A record read without the index goes by the clock.
   */
  heldInStore(record: { task: TaskDict; delayedUntil?: number | null }): boolean {
    if (record.delayedUntil === undefined) return this.holdsBack(record.task);
    if (record.delayedUntil === null) return false;
    this.sweeper.dueAt(record.delayedUntil);
    return true;
  }

  /** A task the store keeps delayed (a dependent made ready before its run_at): the sweep is armed for then. */
  arm(task: TaskDict): void {
    if (task.run_at !== undefined) this.sweeper.dueAt(Date.parse(task.run_at));
  }

  /** A task recorded here that expires at its expires_at: the sweep is armed for then. */
  recorded(task: TaskDict): void {
    if (task.expires_at !== undefined) this.sweeper.dueAt(Date.parse(task.expires_at));
  }

  /** Reads the tasks and hands each on; a store that fails is asked again (these ids left their sorted set). */
  private async read(ids: string[], then: (task: TaskDict) => void): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const records = await Promise.all(ids.map((id) => this.o.ledger.get(id)));
        for (const record of records) if (record !== null) then(record.task as TaskDict);
        return;
      } catch {
        // Given up after a minute; a coordinator that restarts places what is left unplaced.
        if (attempt >= 60) return;
        await new Promise((r) => setTimeout(r, 1000).unref());
      }
    }
  }
}
