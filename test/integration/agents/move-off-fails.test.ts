import { describe, expect, it, vi } from "vitest";
import type { JsonValue, Task } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A distributor declared dead has its open tasks moved (moveOff: its task list read, then each
 * record). When the store failed that read (no reply in time, under load), the tasks stayed on
 * the dead distributor for ever: it was declared dead once, and nothing moved them later on a
 * coordinator whose shard leases stayed its own. The move is now tried again at the next tick.
 */
describe.each(testEngines("move-off-fails"))("a dead distributor's move failing on $name", (engine) => {
  const start = clusterPerTest(engine);

  it("is tried again, and the task runs elsewhere", async () => {
    let first = true;
    let release: () => void = () => {};
    const cluster = start({
      handlers: {
        // Its first attempt hangs on d1's worker (until the test ends); the next one completes.
        step: async (_task: Task): Promise<JsonValue> => {
          if (first) {
            first = false;
            await new Promise<void>((r) => {
              release = r;
            });
          }
          return { ok: true };
        },
      },
    });
    try {
      const d1 = await cluster.startOne();
      const c = cluster.coordinator;
      const id = cluster.id("t");
      await c.submitTask({ task_id: id, task_type: "step" });
      await expect
        .poll(async () => (await c.ledger.get(id))?.task.status, { timeout: 20_000, interval: 50 })
        .toBe("in_progress");
      await cluster.startDistributor("d2");
      await cluster.startWorker("w2", "d2");
      const read = c.ledger.distributorTaskIds.bind(c.ledger);
      let failed = 0;
      vi.spyOn(c.ledger, "distributorTaskIds").mockImplementation((distributor) => {
        if (distributor === d1.agentId && failed++ === 0)
          return Promise.reject(new Error("no reply from the store in time"));
        return read(distributor);
      });
      await cluster.crash(d1);
      await expect
        .poll(async () => (await c.ledger.get(id))?.task.status, { timeout: 20_000, interval: 50 })
        .toBe("completed");
      expect(failed).toBeGreaterThanOrEqual(2);
      expect((await c.ledger.get(id))?.distributor).toBe(cluster.id("d2"));
    } finally {
      release();
    }
  }, 45_000);
});
