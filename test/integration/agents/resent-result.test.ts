import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A worker re-sends an outcome the distributor has not acknowledged within a heartbeat interval;
 * a large result (hundreds of KB) can take longer than that to be committed and acknowledged.
 * The resend of an outcome committed already is a duplicate: acknowledged again, quietly — not
 * refused as a stale result, not counted a second time.
 */
describe.each(testEngines("resent-result"))("a resent result on $name", (engine) => {
  const cluster = clusterPerTest(engine);

  it("is acknowledged as a duplicate of the committed one, not refused as stale", async () => {
    const big = "x".repeat(400_000);
    const c = cluster({
      timing: FAST,
      handlers: {
        work: async () => ({ big }),
      },
    });
    const coordinator = await c.startCoordinator();
    const d1 = await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    await c.ready();
    const id = c.id("large");
    await coordinator.submitTask({ task_id: id, task_type: "work", payload: {} });
    const done = await coordinator.waitForTask(id, 20_000);
    expect(done?.error ?? null).toBeNull();
    expect(done).toMatchObject({ status: "completed" });
    const fence = (await d1.ledger.get(id))!.fence;
    expect(fence).toBeGreaterThan(0);
    const before = { ...d1.core.stats };
    const acks = await d1.core.onResults(c.id("w1"), [
      { task_id: id, fence, status: "completed", result: { big } },
    ]);
    expect(acks).toEqual([{ task_id: id, fence }]);
    expect(d1.core.stats.staleRejected).toBe(before.staleRejected);
    expect(d1.core.stats.completed).toBe(before.completed);
    // An older attempt's outcome is still refused as stale.
    await d1.core.onResults(c.id("w1"), [{ task_id: id, fence: fence - 1, status: "completed", result: 1 }]);
    expect(d1.core.stats.staleRejected).toBe(before.staleRejected + 1);
  }, 60_000);
});
