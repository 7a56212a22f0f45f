import { afterAll, beforeAll, expect } from "vitest";
import { shardOf, shardTag } from "../../src/agents/ledger/shards.js";
import { type LedgerOptions, type NewTask, TaskLedger } from "../../src/agents/ledger/task-ledger.js";
import { RedisClient } from "../../src/index.js";
import type { TestEngine } from "./engines.js";
import { dumpScript } from "./fuzz/twin-stores.js";

/** A store of a test's own on the engine (a fresh key prefix), connected, and a ledger on it. */
export type OpenLedger = (options?: LedgerOptions) => Promise<{ store: RedisClient; ledger: TaskLedger }>;

/**
 * The scaffolding of a suite that runs the store's scripts through a TaskLedger on `engine` (call
 * it inside the describe.each): the engine is set up once; at the end every store opened is
 * disconnected, then the engine torn down. The function returned opens a test's store and ledger.
 */
export function ledgerOn(engine: TestEngine): OpenLedger {
  const clients: RedisClient[] = [];
  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of clients) await c.disconnect();
    await engine.teardown();
  });
  return async (options = {}) => {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    return { store, ledger: new TaskLedger(store, options) };
  };
}

/**
 * Makes the new tasks of a suite's ledger tests: ids `<tag>-<pid>-<n>` (n counting from 1), type
 * echo, an empty payload, created now, no retries and no backoff, with `over` over them.
 */
export function newTasks(tag: string): (over?: Partial<NewTask>) => NewTask {
  let seq = 0;
  return (over = {}) => ({
    taskId: `${tag}-${process.pid}-${++seq}`,
    taskType: "echo",
    payload: {},
    createdAt: new Date().toISOString(),
    maxRetries: 0,
    backoffMs: 0,
    ...over,
  });
}

/** One key of a shard's dump: its name (the shard's prefix cut off), type, and flat value (a hash's or zset's pairs). */
export type ShardKey = { name: string; type: string; flat: string[] };

/** Every key of the shard of task `id` (a raw dump of that shard's keyspace, on either engine). */
export async function shardKeys(store: RedisClient, ledger: TaskLedger, id: string): Promise<ShardKey[]> {
  const prefix = store.key(shardTag(shardOf(id, ledger.shards)));
  const rows = (await store.engine.runScript(dumpScript, [`${prefix}dump`], [prefix])) as [
    string,
    string,
    string[],
    number,
  ][];
  return rows.map(([key, type, flat]) => ({ name: key.slice(prefix.length), type, flat }));
}
