import { groupBy } from "../../core/group-by.js";
import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import { TickBatcher } from "../../core/tick-batcher.js";
import { shardOf, shardTag } from "../ledger/shards.js";
import type { AttemptOutcomeWire } from "../protocol.js";
import type { ProgressUpdate } from "./progress-coalescer.js";
import { setProgress } from "./progress-scripts.js";

export type ProgressWriterOptions = {
  store: RedisClient;
  /** The ledger's shard count (progress is a field of the task's record). */
  shards: number;
  /** Whether `workerId` runs this attempt (see AttemptHolders): nobody else may speak for it. */
  holds: (workerId: string, taskId: string, fence: number) => Promise<boolean>;
  /** A value written: the distributor keeps it with the task it holds, so that its terminal dict shows it. */
  progressed: (taskId: string, progress: JsonValue) => void;
  /** Progress from a worker that does not run the attempt: refused. */
  foreign?: (update: ProgressUpdate, workerId: string) => void;
};

/**
 * The distributor's side of ctx.progress: writes what workers report into the task's record
 * (field `progress`), fenced by set-progress-1.lua, so a stale attempt's value is dropped.
 * Updates arrive already coalesced (at most one per attempt per ~250 ms); those of the same
 * tick go to the store in one script call (per shard on Redis Cluster).
 */
export class ProgressWriter {
  private readonly batcher: TickBatcher<ProgressUpdate, boolean>;
  written = 0;
  dropped = 0;

  constructor(private readonly o: ProgressWriterOptions) {
    this.batcher = new TickBatcher((_group, updates) => this.run(updates));
  }

  /** A task_progress message from a worker. */
  async onProgress(workerId: string, updates: ProgressUpdate[]): Promise<void> {
    const allowed = await Promise.all(updates.map((u) => this.o.holds(workerId, u.task_id, u.fence)));
    await Promise.all(
      updates.map((u, i) => {
        if (allowed[i]) return this.write(u);
        this.o.foreign?.(u, workerId);
        return undefined;
      }),
    );
  }

  /** Before a batch of outcomes is committed: the last progress each carries (already checked as theirs). */
  async beforeCommit(outcomes: AttemptOutcomeWire[]): Promise<void> {
    const writes: Array<Promise<boolean>> = [];
    for (const o of outcomes)
      if (o.progress !== undefined)
        writes.push(this.write({ task_id: o.task_id, fence: o.fence, progress: o.progress }));
    if (writes.length > 0) await Promise.all(writes);
  }

  write(update: ProgressUpdate): Promise<boolean> {
    const group = this.o.store.engine.kind === "cluster" ? String(this.shard(update.task_id)) : "*";
    return this.batcher.add(group, update).then((ok) => {
      if (ok) {
        this.written++;
        this.o.progressed(update.task_id, update.progress);
      } else this.dropped++;
      return ok;
    });
  }

  private shard(taskId: string): number {
    return shardOf(taskId, this.o.shards);
  }

  /** One script call: ARGV grouped by shard (prefix, count, then id, fence, JSON per update). */
  private async run(updates: ProgressUpdate[]): Promise<boolean[]> {
    const byShard = groupBy(updates.keys(), (k) => this.shard(updates[k]!.task_id));
    const args: string[] = [];
    const order: number[] = [];
    for (const [shard, ks] of byShard) {
      args.push(this.o.store.key(shardTag(shard)), String(ks.length));
      for (const k of ks) {
        const u = updates[k]!;
        args.push(u.task_id, String(u.fence), JSON.stringify(u.progress as JsonValue));
        order.push(k);
      }
    }
    const first = byShard.keys().next().value!;
    const reply = (await this.o.store.runScript(setProgress, [`${shardTag(first)}open`], args)) as number[];
    const out = new Array<boolean>(updates.length);
    order.forEach((k, j) => {
      out[k] = reply[j] === 1;
    });
    return out;
  }
}
