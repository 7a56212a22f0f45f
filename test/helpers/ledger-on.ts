import { afterAll, beforeAll, expect } from "vitest";
import { type LedgerOptions, type NewTask, TaskLedger } from "../../src/agents/ledger/task-ledger.js";
import { RedisClient } from "../../src/index.js";
import type { TestEngine } from "./engines.js";

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
