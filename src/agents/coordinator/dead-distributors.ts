import type { TaskLedger } from "../ledger/task-ledger.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { CoordinatorCoreOptions, CoordinatorStats } from "./coordinator-options.js";
import type { DistributorDirectory } from "./distributor-directory.js";
import type { Placement } from "./placement.js";
import { backoffOf, succeeds, takeOff } from "./reassignments.js";

/**
 * A dead distributor's open tasks, moved off it: in the shards owned here, held for placement
 * anew (a retry in its backoff until its not_before), each move noted once. A move the store
 * failed, whoever asked for it (the death, a late lease renewal, the hand-off check), is tried
 * again each monitor tick while the distributor is still dead (back alive, its tasks are its own
 * again). One take-off per distributor at a time: a second waits for the first, and further ones
 * join the one waiting (two at once each read the tasks, and one could hold a task again with a
 * record read before the other's placement moved it: placed anew from its new holder, its attempt
 * there ended).
 */
export class DeadDistributors {
  /** Distributors whose tasks are still to move, with whether the move tells of the death (declared). */
  private readonly due = new Map<string, boolean>();
  /** Per distributor, the end of its take-offs in line, and the one waiting to run (which later calls join). */
  private readonly lines = new Map<string, { tail: Promise<unknown>; waiting: Waiting | null }>();

  constructor(
    private readonly o: {
      ledger: TaskLedger;
      cluster: ClusterSeam;
      directory: DistributorDirectory;
      placement: Placement;
      stats: CoordinatorStats;
      events?: CoordinatorCoreOptions["events"];
    },
  ) {}

  /** `id` was declared dead: its tasks move at the next tick (retry). */
  declared(id: string): void {
    this.due.set(id, true);
  }

  /** Moves the tasks of each distributor declared dead, or whose move failed, and not moved yet. */
  async tick(): Promise<void> {
    for (const [id, declared] of [...this.due]) {
      const done =
        this.o.directory.get(id)?.status !== "dead" || (await succeeds(this.moveOff(id, declared)));
      if (done) this.due.delete(id);
    }
  }

  /**
   * Moves a dead distributor's open tasks in the shards owned here; again after a late lease
   * renewal. Answers the shards of its tasks left where they are (not owned here now). After the
   * take-off running for it, if any; joins the one waiting, if any (told of the death if either asks).
   */
  moveOff(deadId: string, declared = false): Promise<number[]> {
    const line = this.lines.get(deadId) ?? { tail: Promise.resolve(), waiting: null };
    if (line.waiting !== null) {
      line.waiting.declared ||= declared;
      return line.waiting.done;
    }
    const waiting: Waiting = { declared, done: Promise.resolve([]) };
    waiting.done = line.tail.then(() => {
      line.waiting = null; // running now: a call from here on waits for it
      return this.takeOffNow(deadId, waiting.declared);
    });
    const tail = waiting.done.catch(() => {});
    line.tail = tail;
    line.waiting = waiting;
    this.lines.set(deadId, line);
    void tail.then(() => {
      if (line.tail === tail) this.lines.delete(deadId);
    });
    return waiting.done;
  }

  private async takeOffNow(deadId: string, declared: boolean): Promise<number[]> {
    const { ledger, cluster, placement, stats, events } = this.o;
    let taken: Awaited<ReturnType<typeof takeOff>>;
    try {
      taken = await takeOff(ledger, deadId, (id) => cluster.ownerValue(id));
    } catch (err) {
      // Tried again at the next tick (before, a late renewal's or a hand-off check's failed
      // take-off was left to a next late renewal or hand-off that might never come).
      this.due.set(deadId, declared || this.due.get(deadId) === true);
      throw err;
    }
    const { count, open, skipped } = taken;
    if (declared) events?.distributorDead?.(deadId, count);
    for (const { record, noted } of open) {
      if (noted) {
        stats.reassigned++;
        events?.reassigned?.(record.task.task_id, deadId, record.task);
      }
      if (!placement.has(record.task.task_id))
        placement.hold(record.task, 0, { notBefore: backoffOf(record), from: deadId });
    }
    return skipped;
  }
}

/** A take-off waiting for the one running; `declared`: it tells of the death (see moveOff). */
type Waiting = { declared: boolean; done: Promise<number[]> };
