import { afterEach, describe, expect, it } from "vitest";
import { FAST, TestCluster } from "../../helpers/cluster.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * A worker sends an outcome again when its acknowledgement is slow (every heartbeat interval):
 * under load the commit of the first copy takes longer than that. The copy must not be committed
 * a second time (the fenced ledger would refuse it as stale: a stale result reported for an
 * attempt that counted once); it is acknowledged as the first was.
 */
describe("a result sent again while its first copy is being committed", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("is acknowledged with the first, not refused as stale", async () => {
    const timing = { ...FAST, heartbeatTimeoutMs: 5000 };
    cluster = new TestCluster({ url: `memory://result-copies-${process.pid}` }, { concurrency: 1, timing });
    const d = await cluster.startOne();
    const w = cluster.workers.get("w1")!;
    const id = cluster.id("copied");
    // Every commit is held until released, as a slow store under load would.
    const held: Array<() => void> = [];
    let released = false;
    const commit = d.ledger.commitAttempts.bind(d.ledger);
    d.ledger.commitAttempts = (outcomes) => {
      if (released) return commit(outcomes);
      return new Promise<void>((resolve) => held.push(resolve)).then(() => commit(outcomes));
    };
    // Copies of the outcome the distributor receives (the worker re-sends it, unacknowledged).
    let received = 0;
    const onResults = d.core.onResults.bind(d.core);
    d.core.onResults = (workerId, results) => {
      received += results.filter((r) => r.task_id === id).length;
      return onResults(workerId, results);
    };
    await cluster.coordinator.submitTasks([{ task_id: id, task_type: "echo", payload: {} }]);
    // Bounds for a hang: the worker re-sends every heartbeat interval (100 ms) until acknowledged.
    const deadline = performance.now() + 20_000;
    while (received < 3 && performance.now() < deadline) await sleep(10);
    expect(received).toBeGreaterThanOrEqual(3);
    released = true;
    while (held.length > 0) held.shift()!();
    const done = await cluster.coordinator.waitForTask(id, 20_000);
    expect(done?.status).toBe("completed");
    expect(done?.attempts).toBe(1);
    // Acknowledged: the worker stops re-sending it.
    while (w.core.pendingResults > 0 && performance.now() < deadline) await sleep(10);
    expect(w.core.pendingResults).toBe(0);
    expect(cluster.stale).toEqual([]);
    expect(d.core.stats.staleRejected).toBe(0);
  }, 60_000);
});
