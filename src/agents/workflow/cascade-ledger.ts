import { groupBy } from "../../core/group-by.js";
import type { RedisClient } from "../../core/store/index.js";
import { TickBatcher } from "../../core/tick-batcher.js";
import { shardOf, shardTag } from "../ledger/shards.js";
import type { TaskLedger, TaskRecord } from "../ledger/task-ledger.js";
import { parseRecord } from "../ledger/task-record.js";
import * as scripts from "./cascade-scripts.js";

/** A task a cascade walk starts from: a target to mark (with the reason it ends with), or one on the frontier (reason ""). */
export type CascadeItem = { taskId: string; reason: string; parent: string };
/** What one walk did (see CascadeLedger.walk). */
export type CascadeWalk = {
  walked: number;
  ended: TaskRecord[];
  rest: string[];
  foreign: CascadeItem[];
  held: string[];
};

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

  /**
   * Walks the cascade from `items` in one script call (one per shard on Redis Cluster), up to
   * `limit` tasks per call (cascade-walk-1.lua): a target with a reason is marked first, one
   * with reason "" is on the frontier already. Answers the tasks it ended (records as left),
   * the ids left on the frontier, the targets in shards this call could not touch (Redis
   * Cluster) and the ids held on the frontier until those are marked.
   */
  async walk(items: CascadeItem[], limit: number, retentionMs: number): Promise<CascadeWalk> {
    const cluster = this.store.engine.kind === "cluster";
    const byShard = groupBy(items, (item) =>
      cluster ? String(shardOf(item.taskId, this.ledger.shards)) : "",
    );
    // The calls run side by side (Redis Cluster): `limit` is shared out between them, and a call
    // whose share is 0 marks the targets it is given and walks none (they join its frontier).
    const groups = [...byShard];
    const share = (k: number) => Math.floor(limit / groups.length) + (k < limit % groups.length ? 1 : 0);
    const tag0 = shardTag(0);
    const base = this.store.key(tag0).slice(0, -tag0.length);
    const now = new Date().toISOString();
    const replies = await Promise.all(
      groups.map(([only, list], k) => {
        const args: (string | number)[] = [base, this.ledger.shards, only, now, retentionMs, share(k)];
        for (const t of list) args.push(t.taskId, t.reason, t.parent);
        const keys = [
          `${shardTag(only === "" ? shardOf(list[0]!.taskId, this.ledger.shards) : Number(only))}cascade`,
        ];
        return this.store.runScript(scripts.cascadeWalk, keys, args);
      }),
    );
    const out: CascadeWalk = { walked: 0, ended: [], rest: [], foreign: [], held: [] };
    for (const reply of replies) {
      const [walked, ended, rest, foreign, held] = reply as [
        number,
        string[][],
        string[],
        string[],
        string[],
      ];
      out.walked += walked;
      for (const [id, ...flat] of ended) {
        const record = parseRecord(id!, flat);
        if (record !== null) out.ended.push(record);
      }
      out.rest.push(...rest);
      for (let i = 0; i < foreign.length; i += 3)
        out.foreign.push({ taskId: foreign[i]!, reason: foreign[i + 1]!, parent: foreign[i + 2]! });
      out.held.push(...held);
    }
    return out;
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
