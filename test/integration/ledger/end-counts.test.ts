import { createClient } from "redis";
import { describe, expect, it } from "vitest";
import { type TestEngine, testEngines } from "../../helpers/engines.js";
import { ledgerOn } from "../../helpers/ledger-on.js";

/**
 * The store counts each task's end once, in the step that records it (open_end, the ledger's
 * end-counts): a retry, a resend, a stale attempt or a second abandon counts nothing more. It
 * counts each new task once too (submitted, in submit-tasks): a second submit counts nothing.
 */
describe.each(testEngines("end-counts", { cluster: true }))("the ledger's end counts on $name", (engine) => {
  const open = ledgerOn(engine);

  it("counts completed, failed and abandoned ends once each, over every shard", async () => {
    const { ledger: l } = await open();
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

  it("counts the tasks of one batched call, over several shards and statuses, once each", async () => {
    const { ledger: l } = await open();
    const task = (taskId: string) => ({
      taskId,
      taskType: "echo",
      payload: {},
      createdAt: new Date().toISOString(),
      maxRetries: taskId.startsWith("retried") ? 1 : 0,
      backoffMs: 1,
    });
    // Calls made in one tick go as one script call (one per shard on a Cluster).
    const ids = Array.from({ length: 40 }, (_, i) => `${["done", "failed", "retried"][i % 3]}-${i}`);
    expect(new Set(ids.map((id) => l.shardOf(id))).size).toBeGreaterThan(3);
    const shards = new Set(ids.map((id) => l.shardOf(id))).size;
    const hincrbys = await hincrbyCalls(engine);
    expect(await Promise.all([...ids, ids[0]!].map((id) => l.submit(task(id), "d1")))).toEqual([
      ...ids.map(() => true),
      false,
    ]);
    // On a Redis of the suite's own: the counts were written once per shard of the call
    // (open_tally), not once per task (40 then).
    const submitCalls = await hincrbys.since();
    if (submitCalls !== undefined) expect(submitCalls).toBeLessThanOrEqual(shards);
    expect(await Promise.all(ids.map((id) => l.dispatch(id, "d1", "w1")))).toEqual(ids.map(() => 1));
    await hincrbys.since();
    const outcome = (id: string) =>
      id.startsWith("done")
        ? { taskId: id, fence: 1, status: "completed" as const, result: {} }
        : { taskId: id, fence: 1, status: "failed" as const, error: "x" };
    const verdicts = await Promise.all(ids.map((id) => l.commit(outcome(id))));
    expect(verdicts).toEqual(
      ids.map((id) => (id.startsWith("done") ? "completed" : id.startsWith("failed") ? "failed" : "retry")),
    );
    const of = (kind: string) => ids.filter((id) => id.startsWith(kind)).length;
    expect(await l.endCounts()).toEqual({
      submitted: ids.length,
      completed: of("done"),
      failed: of("failed"),
    });
    // The commit: a failure's count of failures (one a failed task), and the ends' counts once per
    // shard and status of the call (completed, failed), not once per end (13 + 14 more then).
    const commitCalls = await hincrbys.since();
    await hincrbys.close();
    const failures = ids.length - of("done");
    if (commitCalls !== undefined) expect(commitCalls).toBeLessThanOrEqual(failures + 2 * shards);
  });
});

/**
 * HINCRBY calls a Redis of the suite's own ran (Redis counts a script's commands in its
 * commandstats): since() says how many since the last call; undefined on another engine.
 */
async function hincrbyCalls(engine: TestEngine) {
  if (engine.name !== "redis" || process.env.REDIS_URL !== undefined)
    return { since: async (): Promise<number | undefined> => undefined, close: async () => {} };
  const client = createClient({ url: engine.config().url });
  await client.connect();
  const read = async () =>
    Number(/cmdstat_hincrby:calls=(\d+)/.exec(await client.info("commandstats"))?.[1] ?? 0);
  let last = await read();
  return {
    since: async (): Promise<number | undefined> => {
      const now = await read();
      const calls = now - last;
      last = now;
      return calls;
    },
    close: () => client.close(),
  };
}
