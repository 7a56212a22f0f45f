import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { RedisClient } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * The store counts each task's end once, in the step that records it (open_end, the ledger's
 * end-counts): a retry, a resend, a stale attempt or a second abandon counts nothing more. It
 * counts each new task once too (submitted, in submit-tasks): a second submit counts nothing.
 */
describe.each(testEngines("end-counts", { cluster: true }))("the ledger's end counts on $name", (engine) => {
  const clients: RedisClient[] = [];
  beforeAll(() => engine.setup(), 60_000);
  afterAll(async () => {
    for (const c of clients) await c.disconnect();
    await engine.teardown();
  });

  it("counts completed, failed and abandoned ends once each, over every shard", async () => {
    const store = new RedisClient(engine.config());
    expect(await store.connect()).toBe(true);
    clients.push(store);
    const l = new TaskLedger(store);
    expect(await l.endCounts()).toEqual({});
    const task = (taskId: string, maxRetries = 0) => ({
      taskId,
      taskType: "echo",
      payload: {},
      createdAt: new Date().toISOString(),
      maxRetries,
      backoffMs: 1,
    });
    // Ids spread over several shards (on a Cluster, several nodes).
    const done = Array.from({ length: 6 }, (_, i) => `done-${i}`);
    for (const id of [...done, "retried", "failed", "dropped"]) {
      expect(await l.submit(task(id, id === "retried" ? 1 : 0), "d1")).toBe(true);
    }
    expect(new Set(done.map((id) => l.shardOf(id))).size).toBeGreaterThan(1);
    const submitted = done.length + 3;
    expect(await l.endCounts()).toEqual({ submitted });
    // Sent again (a resend, another coordinator's, with or without a distributor): nothing more.
    expect(await l.submit(task(done[0]!), "d1")).toBe(false);
    expect(await l.submit(task("failed"))).toBe(false);
    expect(await l.endCounts()).toEqual({ submitted });
    for (const id of done) {
      expect(await l.dispatch(id, "d1", "w1")).toBe(1);
      expect(await l.commit({ taskId: id, fence: 1, status: "completed", result: {} })).toBe("completed");
      // Sent again (a late ack), and an older attempt's: nothing more.
      expect(await l.commit({ taskId: id, fence: 1, status: "completed", result: {} })).toBe("duplicate");
      expect(await l.commit({ taskId: id, fence: 0, status: "completed", result: {} })).toBe("stale");
    }
    // A failure with a retry left is no end; its second is.
    expect(await l.dispatch("retried", "d1", "w1")).toBe(1);
    expect(await l.commit({ taskId: "retried", fence: 1, status: "failed", error: "x" })).toBe("retry");
    expect(await l.endCounts()).toEqual({ submitted, completed: done.length });
    expect(await l.dispatch("failed", "d1", "w1")).toBe(1);
    expect(await l.commit({ taskId: "failed", fence: 1, status: "failed", error: "x" })).toBe("failed");
    expect(await l.abandon("dropped", "no room")).toBe(true);
    expect(await l.abandon("dropped", "no room")).toBe(false);
    expect(await l.abandon(done[0]!, "too late")).toBe(false);
    expect(await l.endCounts()).toEqual({ submitted, completed: done.length, failed: 1, abandoned: 1 });
    // Ended tasks submitted again (their records kept for the retention): nothing more.
    expect(await l.submit(task("dropped"))).toBe(false);
    expect(await l.endCounts()).toEqual({ submitted, completed: done.length, failed: 1, abandoned: 1 });
  });
});
