import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import { shardOf, shardTag } from "../ledger/shards.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import * as scripts from "./input-scripts.js";

/** What giving input did: given (the task is pending again), unknown task, or the status of a task not waiting. */
export type InputVerdict = { given: true } | { given: false; status: string | null };

/** Due entries looked at per shard per wake-up: a backlog drains over a few ticks. */
const EXPIRE_BATCH = 500;

/**
 * The store side of human input: one fenced script to give input (the first answer to a
 * request wins), one to end the waits that ran out. Keys are the ledger's, in each task's
 * shard ({t<n>}), so both work on Redis Cluster.
 */
export class InputLedger {
  constructor(
    private readonly store: RedisClient,
    private readonly ledger: TaskLedger,
  ) {}

  /**
   * Gives `value` to the task if it waits for input — for question `question` (the number of
   * inputs given before it was asked) when named; the value joins its inputs and it is pending again.
   * The person is told it was taken: with redis.waitReplicas, only once replicas hold it.
   */
  async provide(taskId: string, value: JsonValue, question?: number): Promise<InputVerdict> {
    const shard = shardOf(taskId, this.ledger.shards);
    const reply = await this.store.runReplicatedScript(
      scripts.provideInput,
      [`${shardTag(shard)}open`],
      [this.store.key(shardTag(shard)), taskId, JSON.stringify(value), question ?? ""],
    );
    if (reply === 1) return { given: true };
    return { given: false, status: typeof reply === "string" ? reply : null };
  }

  /** Ends every task whose wait for input ran out (up to a batch per shard): their ids, and how many still wait. */
  async expire(): Promise<{ expired: string[]; waiting: number }> {
    const shards = Array.from({ length: this.ledger.shards }, (_, s) => s);
    // One call for every shard on a single Redis; one per shard on Redis Cluster (one slot each).
    const groups = this.store.engine.kind === "cluster" ? shards.map((s) => [s]) : [shards];
    const head = [new Date().toISOString(), this.ledger.retentionMs, EXPIRE_BATCH];
    const replies = await Promise.all(
      groups.map((group) =>
        this.store.runScript(
          scripts.expireInputs,
          [`${shardTag(group[0]!)}open`],
          [...head, ...group.map((s) => this.store.key(shardTag(s)))],
        ),
      ),
    );
    const answers = replies as Array<[string[], number]>;
    return {
      expired: answers.flatMap(([ids]) => ids),
      waiting: answers.reduce((sum, [, n]) => sum + Number(n), 0),
    };
  }
}
