import type { RedisClient } from "../../core/store/index.js";
import { shardTag } from "../ledger/shards.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import { unplacedTasks } from "./unplaced-scripts.js";

export type UnplacedSweepOptions = {
  store: RedisClient;
  ledger: TaskLedger;
  /** The shards owned here (null: every shard). */
  owned: () => number[] | null;
  /** Whether the coordinator holds the task for placement already (placed at its next pass). */
  held: (taskId: string) => boolean;
  /** Places a task the store shows unplaced, after one more read (CoordinatorCore.adoptIfUnplaced). */
  adopt: (taskId: string) => Promise<void>;
  /** Tasks the sweep found unplaced and not held here (said in the log). */
  found?: (taskIds: string[]) => void;
};

/** Monitor ticks between two sweep steps (2 s with the default 500 ms monitor interval). */
export const SWEEP_EVERY_TICKS = 4;
/** Ids a sweep step looks at, about (it ends with the bucket that reaches it, see unplaced-tasks-1.lua). */
export const SWEEP_BUDGET = 1_000;

/**
 * The unplaced sweep: a safety net, as the stalled-job checkers of Temporal and BullMQ are. Every
 * SWEEP_EVERY_TICKS monitor ticks it reads the next SWEEP_BUDGET or so ids of the open-task index
 * of the shards owned here (a cursor over them, one script call a shard, unplaced-tasks-1.lua)
 * and lists the tasks nothing will place: pending, on no distributor, waiting on no dependency,
 * not held for a run_at. Those this coordinator does not hold for placement are adopted (read
 * again, and placed only if still unplaced: assign-unplaced-1.lua). A task is left so only by a
 * lost step (a ready answer, a hand-off, an abandon the store never ran); this finds it within a
 * pass over the owned shards' open tasks (a few seconds for a few thousand, 200 s for 100,000).
 */
export class UnplacedSweep {
  private ticks = 0;
  /** Where the walk is: the shard, and the cursor in its index ("" at its start). */
  private shard = -1;
  private cursor = "";

  constructor(private readonly o: UnplacedSweepOptions) {}

  /** One monitor tick: a sweep step every SWEEP_EVERY_TICKS ticks. Answers the ids it adopted. */
  async tick(): Promise<string[]> {
    if (++this.ticks % SWEEP_EVERY_TICKS !== 0) return [];
    return this.step();
  }

  /**
   * Reads about SWEEP_BUDGET ids from where the walk is, going on into the next owned shard when
   * one is walked (each owned shard at most once a step), and adopts what it finds.
   */
  async step(): Promise<string[]> {
    const owned = this.o.owned() ?? Array.from({ length: this.o.ledger.shards }, (_, s) => s);
    if (owned.length === 0) return [];
    const found: string[] = [];
    let seen = 0;
    for (let visited = 0; visited < owned.length && seen < SWEEP_BUDGET; ) {
      if (this.cursor === "" || !owned.includes(this.shard)) {
        this.shard = owned.find((s) => s > this.shard) ?? owned[0]!;
        this.cursor = "";
        visited++;
      }
      const tag = shardTag(this.shard);
      const reply = (await this.o.store.runScript(
        unplacedTasks,
        [`${tag}open`],
        [this.o.store.key(tag), this.cursor, SWEEP_BUDGET - seen],
      )) as Array<string | number>;
      this.cursor = String(reply[0] ?? "");
      seen += Number(reply[1]) || 0;
      for (const id of reply.slice(2)) found.push(String(id));
    }
    const orphans = found.filter((id) => !this.o.held(id));
    if (orphans.length === 0) return [];
    this.o.found?.(orphans);
    await Promise.all(orphans.map((id) => this.o.adopt(id).catch(() => {})));
    return orphans;
  }
}
