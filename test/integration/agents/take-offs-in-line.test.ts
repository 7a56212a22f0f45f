import { describe, expect, it } from "vitest";
import { gatedTasksOnD1, recordReassigned } from "../../helpers/dead-distributor.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A dead distributor's tasks are taken off it (CoordinatorCore.moveOff) at its death, and again
 * by a late lease renewal or by the hand-off check: one take-off per distributor at a time. Two
 * at once each read the tasks, and one could hold a task again with a record read before the
 * other's placement moved it (placed anew from its new holder, its attempt there ended). A second
 * waits for the first; a third joins the second.
 */
describe.each(testEngines("take-offs-in-line"))("take-offs of one dead distributor ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("run one at a time: a second waits for the first, a third joins the second", async () => {
    const { c, coordinator, d1, w1, ids, release } = await gatedTasksOnD1(cluster, {}, 20_000);
    try {
      const core = coordinator.core;
      const reassigned = recordReassigned(coordinator);
      // The reads of d1's task list (the first step of a take-off), held until `open` while `held`.
      const ledger = coordinator.ledger;
      const read = ledger.distributorTaskIds.bind(ledger);
      let open = () => {};
      const opened = new Promise<void>((r) => {
        open = r;
      });
      let reads = 0;
      let reading = 0;
      let most = 0;
      ledger.distributorTaskIds = async (id) => {
        if (id !== d1.agentId) return read(id);
        reads++;
        reading++;
        most = Math.max(most, reading);
        try {
          await opened;
          return await read(id);
        } finally {
          reading--;
        }
      };
      await c.crash(w1);
      await c.crash(d1);
      await until("the take-off at d1's death reads its tasks", () => reading === 1, 20_000);

      const late = core.moveOff(d1.agentId); // as a late lease renewal would
      const check = core.moveOff(d1.agentId); // as the hand-off check would, meanwhile
      await new Promise((r) => setImmediate(r));
      expect(reads).toBe(1); // both wait for the take-off running
      open();
      await Promise.all([late, check]);
      expect(most).toBe(1);
      expect(reads).toBe(2); // the death's, then one for the two that waited

      release();
      await c.startDistributor("d2");
      await c.startWorker("w2", "d2");
      for (const id of ids)
        expect(await coordinator.waitForTask(id, 20_000), id).toMatchObject({ status: "completed" });
      expect([...reassigned].sort()).toEqual([...ids].sort()); // each noted once
    } finally {
      release();
    }
  }, 60_000);
});
