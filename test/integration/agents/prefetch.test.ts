import { afterEach, describe, expect, it } from "vitest";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * A distributor hands a worker up to twice its concurrency (the rest waits in the worker's
 * backlog), so the worker never idles while results and commits are on their way. An attempt
 * waiting there longer than the heartbeat timeout must not look lost: the worker lists it.
 */

describe("prefetch", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("a worker holds twice its concurrency; a queued attempt outliving the heartbeat timeout is not taken back", async () => {
    cluster = new TestCluster({ url: `memory://prefetch-${process.pid}` }, { concurrency: 1 });
    await cluster.startCoordinator();
    const d = await cluster.startDistributor("d1");
    const w = await cluster.startWorker("w1", "d1");
    await cluster.ready();
    // Each task sleeps longer than the heartbeat timeout (400 ms in these tests).
    const ids = Array.from({ length: 4 }, (_, i) => cluster!.id(`slow-${i}`));
    await cluster.coordinator.submitTasks(
      ids.map((id) => ({ task_id: id, task_type: "sleep", payload: { ms: 500 } })),
    );
    const deadline = performance.now() + 5000;
    while (w.core.backlogSize === 0 && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 10));
    expect(w.core.load).toBe(1); // one running,
    expect(w.core.backlogSize).toBe(1); // one waiting behind it
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 20_000)));
    expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
    expect(done.map((t) => t?.attempts)).toEqual(ids.map(() => 1)); // none was taken back and run again
    expect(cluster.stale).toEqual([]);
    expect(d.core.stats.reassigned).toBe(0);
  });
});
