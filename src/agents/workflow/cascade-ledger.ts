import type { RedisClient } from "../../core/store/index.js";
import { TickBatcher } from "../../core/tick-batcher.js";
import { shardOf, shardTag } from "../ledger/shards.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import * as scripts from "./cascade-scripts.js";

/**
 * The store side of a cancel cascade: marking a task (its record keeps the reason, its id joins
 * its shard's `cascade` frontier), taking a task off the frontier once its dependents and spawned
 * tasks are marked, putting a marked task back on it, and reading it. Keys are the ledger's, in
 * each task's shard ({t<n>}), so every step works on Redis Cluster. Calls made in one tick are
 * batched into one script call (one per shard on Redis Cluster).
 */
export class CascadeLedger {
  private readonly marker: TickBatcher<{ taskId: string; reason: string; parent: string }, boolean>;
  private readonly done_: TickBatcher<string, boolean>;
  private readonly again_: TickBatcher<string, boolean>;

  constructor(
    private readonly store: RedisClient,
    private readonly ledger: TaskLedger,
  ) {
    this.marker = new TickBatcher(async (_key, items) => {
      const reply = await this.ledger.grouped(
        scripts.markCanceled,
        [],
        items,
        (t) => t.taskId,
        (t, args) => args.push(t.taskId, t.reason, t.parent),
      );
      return reply.map((r) => r === 1);
    });
    const frontier = (op: "done" | "again") =>
      new TickBatcher<string, boolean>(async (_key, ids) => {
        const reply = await this.ledger.grouped(
          scripts.cascadeFrontier,
          [op],
          ids,
          (id) => id,
          (id, args) => args.push(id),
        );
        return reply.map((r) => r === 1);
      });
    this.done_ = frontier("done");
    this.again_ = frontier("again");
  }

  /**
   * Marks `taskId` to end with `reason` and puts it on the frontier; false if unknown or marked
   * already. Given `parent`, only a task whose record names that parent (parent_id) is marked:
   * a spawn that named an existing task's id recorded nothing, and that task is not its child.
   */
  mark(taskId: string, reason: string, parent = ""): Promise<boolean> {
    return this.marker.add(this.group(taskId), { taskId, reason, parent });
  }

  /** Takes `taskId` off the frontier (its dependents and spawned tasks are marked). */
  done(taskId: string): Promise<boolean> {
    return this.done_.add(this.group(taskId), taskId);
  }

  /** Puts `taskId` back on the frontier if it is marked: true if it is. */
  again(taskId: string): Promise<boolean> {
    return this.again_.add(this.group(taskId), taskId);
  }

  /** Up to `perShard` ids of each shard's frontier. */
  async frontier(perShard: number): Promise<string[]> {
    const shards = Array.from({ length: this.ledger.shards }, (_, s) => s);
    const all = await Promise.all(
      shards.map((s) => this.store.runScript(scripts.cascadeMembers, [`${shardTag(s)}cascade`], [perShard])),
    );
    return (all as string[][]).flat();
  }

  private group(taskId: string): string {
    return this.store.engine.kind === "cluster" ? String(shardOf(taskId, this.ledger.shards)) : "*";
  }
}
