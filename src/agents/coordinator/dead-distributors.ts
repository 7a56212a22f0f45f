import type { TaskLedger } from "../ledger/task-ledger.js";
import type { ClusterSeam } from "./cluster-seam.js";
import type { CoordinatorCoreOptions, CoordinatorStats } from "./coordinator-options.js";
import type { DistributorDirectory } from "./distributor-directory.js";
import type { Placement } from "./placement.js";
import { backoffOf, succeeds, takeOff } from "./reassignments.js";

/**
 * A dead distributor's open tasks, moved off it: in the shards owned here, held for placement
 * anew (a retry in its backoff until its not_before), each move noted once. A move the store
 * failed is tried again each monitor tick while the distributor is still dead (back alive, its
 * tasks are its own again).
 */
export class DeadDistributors {
  /** Distributors declared dead whose tasks are still to move. */
  private readonly due = new Set<string>();

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
    this.due.add(id);
  }

  /** Moves the tasks of each distributor declared dead and not moved yet. */
  async tick(): Promise<void> {
    for (const id of [...this.due]) {
      const done = this.o.directory.get(id)?.status !== "dead" || (await succeeds(this.moveOff(id, true)));
      if (done) this.due.delete(id);
    }
  }

  /**
   * Moves a dead distributor's open tasks in the shards owned here; again after a late lease
   * renewal. Answers the shards of its tasks left where they are (not owned here now).
   */
  async moveOff(deadId: string, declared = false): Promise<number[]> {
    const { ledger, cluster, placement, stats, events } = this.o;
    const { count, open, skipped } = await takeOff(ledger, deadId, (id) => cluster.ownerValue(id));
    if (declared) events?.distributorDead?.(deadId, count);
    for (const { record, noted } of open) {
      if (noted) {
        stats.reassigned++;
        events?.reassigned?.(record.task.task_id, deadId, record.task);
      }
      if (!placement.has(record.task.task_id))
        placement.hold(record.task, 0, { notBefore: backoffOf(record) });
    }
    return skipped;
  }
}
