import type { JsonValue } from "../../core/json.js";
import type { RedisClient } from "../../core/store/index.js";
import { shardOf, shardTag } from "../ledger/shards.js";
import type { TaskLedger } from "../ledger/task-ledger.js";
import * as scripts from "./input-scripts.js";

/**
 * What giving input did: given (the task is pending again), unknown task, the status of a task
 * not waiting, or refused for the size the task's record would reach (`bytes`).
 */
export type InputVerdict =
  | { given: true }
  | { given: false; status: string | null }
  | { given: false; tooLarge: number };

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
   * `maxBytes`: refused when the task's record would grow past it (see provide-input-1.lua).
   */
  async provide(
    taskId: string,
    value: JsonValue,
    question?: number,
    maxBytes?: number,
  ): Promise<InputVerdict> {
    const shard = shardOf(taskId, this.ledger.shards);
    const reply = await this.store.runReplicatedScript(
      scripts.provideInput,
      [`${shardTag(shard)}open`],
      [this.store.key(shardTag(shard)), taskId, JSON.stringify(value), question ?? "", maxBytes ?? ""],
    );
    if (reply === 1) return { given: true };
    if (Array.isArray(reply)) return { given: false, tooLarge: Number(reply[1]) };
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
