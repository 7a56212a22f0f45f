import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorAgent } from "../../../src/agents/index.js";
import { RedisClient } from "../../../src/index.js";
import {
  contextDigest,
  RejectedTasks,
  readRejected,
} from "../../../src/server/a2a-gateway/rejected-tasks.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * The index through which the A2A gateway's ListTasks finds the tasks it refused before they
 * became Triad tasks (REJECTED): its bounds (the newest N, none older than the retention) and
 * its Lua script and memory twin, on every engine.
 */

const engines = testEngines("a2a-rejected", { cluster: true });

describe.each(engines)("A2A rejected-task index on $name", (engine) => {
  const open: RedisClient[] = [];
  const index = async (retentionMs: number, most?: number) => {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    open.push(store);
    const coordinator = { store, ledger: { retentionMs } } as unknown as Pick<
      CoordinatorAgent,
      "store" | "ledger"
    >;
    return { store, rejected: new RejectedTasks(coordinator, most) };
  };
  const iso = (ms: number) => new Date(ms).toISOString();

  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of open) await c.disconnect();
    await engine.teardown();
  });

  it("gives back each noted task once, with its status time and context digest", async () => {
    const { rejected } = await index(60_000);
    const now = Date.now();
    await rejected.note("t1", "ctx-a", iso(now - 10));
    await rejected.note("t2", "x".repeat(10_000), iso(now - 5));
    await rejected.note("t1", "ctx-a", iso(now - 10)); // the SDK saves a task once per event
    const rows = await rejected.rows();
    expect(rows.sort((a, b) => a.id.localeCompare(b.id))).toEqual([
      { id: "t1", at: iso(now - 10), context: contextDigest("ctx-a") },
      { id: "t2", at: iso(now - 5), context: contextDigest("x".repeat(10_000)) },
    ]);
    expect(contextDigest("x".repeat(10_000))).toHaveLength(16);
  });

  it("keeps the newest `most` only", async () => {
    const { rejected } = await index(60_000, 5);
    const now = Date.now();
    for (let i = 0; i < 12; i++)
      await rejected.note(`t${String(i).padStart(2, "0")}`, "c", iso(now - 1000 + i));
    const ids = (await rejected.rows()).map((r) => r.id).sort();
    expect(ids).toEqual(["t07", "t08", "t09", "t10", "t11"]);
  });

  it("lists none older than the retention, drops them at the next note, and the index itself expires", async () => {
    const { store, rejected } = await index(400);
    const now = Date.now();
    await rejected.note("old", "c", iso(now - 1000));
    await rejected.note("new", "c", iso(now));
    expect((await rejected.rows()).map((r) => r.id)).toEqual(["new"]);
    // What is left in the sorted set, the retention aside: "old" went at the second note.
    const raw = await store.runScript(readRejected, ["a2a:rejected"], [0]);
    expect((raw as string[]).filter((_, i) => i % 2 === 0).map((m) => JSON.parse(m)[0])).toEqual(["new"]);
    await until("the index expires", async () => !(await store.exists("a2a:rejected")), 5_000, 25);
    expect(await rejected.rows()).toEqual([]);
  });
});
