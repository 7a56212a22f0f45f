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
/** Ids found once and kept for their second sighting, at most (more found meanwhile are noted at their next sighting). */
const MAX_SUSPECTS = 100_000;

/**
 * The unplaced sweep: a safety net, as the stalled-job checkers of Temporal and BullMQ are. Every
 * SWEEP_EVERY_TICKS monitor ticks it reads the next SWEEP_BUDGET or so ids of the open-task index
 * of the shards owned here (a cursor over them, one script call a shard, unplaced-tasks-1.lua)
 * and lists the tasks nothing will place: pending, on no distributor, waiting on no dependency,
 * not held for a run_at. One this coordinator does not hold for placement two passes in a row
 * is adopted (read again, and placed only if still unplaced: assign-unplaced-1.lua): a task
 * seen once may be on its way (recorded, its placement not held yet on a loaded process), and
 * is only noted, until the end of the next pass over its shard: not seen then (placed meanwhile),
 * it is forgotten. A task is left so only by a lost step (a ready answer, a hand-off, an abandon
 * the store never ran); this finds it within two passes over the owned shards' open tasks (a
 * few seconds for a few thousand, 400 s for 100,000).
 */
export class UnplacedSweep {
  private ticks = 0;
  /** Where the walk is: the shard, and the cursor in its index ("" at its start). */
  private shard = -1;
  private cursor = "";
  /**
   * Per shard, the ids found unplaced and not held in its last whole pass (`last`: placed at
   * their next sighting, if still so; forgotten when this pass ends without one), and those
   * found so in the pass under way (`now`).
   */
  private readonly suspects = new Map<number, { last: Set<string>; now: Set<string> }>();
  private suspectCount = 0;

  constructor(private readonly o: UnplacedSweepOptions) {}

  /** One monitor tick: a sweep step every SWEEP_EVERY_TICKS ticks. Answers the ids it adopted. */
  async tick(): Promise<string[]> {
    if (++this.ticks % SWEEP_EVERY_TICKS !== 0) return [];
    return this.step();
  }

  /**
   * Reads about SWEEP_BUDGET ids from where the walk is, going on into the next owned shard when
   * one is walked (each owned shard started at most once a step), and adopts what it finds.
   */
  async step(): Promise<string[]> {
    const owned = this.o.owned() ?? Array.from({ length: this.o.ledger.shards }, (_, s) => s);
    // A shard owned here no longer: what was found in it is forgotten (its new owner sweeps it).
    for (const [shard, sets] of this.suspects)
      if (!owned.includes(shard)) {
        this.suspectCount -= sets.last.size + sets.now.size;
        this.suspects.delete(shard);
      }
    if (owned.length === 0) return [];
    const orphans: string[] = [];
    let seen = 0;
    for (let started = 0; seen < SWEEP_BUDGET; ) {
      if (this.cursor === "" || !owned.includes(this.shard)) {
        if (started === owned.length) break;
        this.shard = owned.find((s) => s > this.shard) ?? owned[0]!;
        this.cursor = "";
        started++;
        this.passStarts(this.shard);
      }
      const tag = shardTag(this.shard);
      const reply = (await this.o.store.runScript(
        unplacedTasks,
        [`${tag}open`],
        [this.o.store.key(tag), this.cursor, SWEEP_BUDGET - seen],
      )) as Array<string | number>;
      this.cursor = String(reply[0] ?? "");
      seen += Number(reply[1]) || 0;
      const sets = this.suspects.get(this.shard)!;
      for (const raw of reply.slice(2)) {
        const id = String(raw);
        if (sets.last.delete(id)) {
          this.suspectCount--;
          if (!this.o.held(id)) orphans.push(id);
        } else if (!this.o.held(id) && this.suspectCount < MAX_SUSPECTS && !sets.now.has(id)) {
          sets.now.add(id);
          this.suspectCount++;
        }
      }
    }
    if (orphans.length === 0) return [];
    this.o.found?.(orphans);
    await Promise.all(orphans.map((id) => this.o.adopt(id).catch(() => {})));
    return orphans;
  }

  /**
   * A pass over `shard` starts (its last one ended, or was cut short: the shard left and came
   * back): what the pass before found and this one did not see is forgotten, placed meanwhile.
   */
  private passStarts(shard: number): void {
    const sets = this.suspects.get(shard);
    if (sets === undefined) {
      this.suspects.set(shard, { last: new Set(), now: new Set() });
      return;
    }
    this.suspectCount -= sets.last.size;
    sets.last = sets.now;
    sets.now = new Set();
  }
}
