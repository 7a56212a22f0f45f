import { describe, expect, it, vi } from "vitest";
import { A2ARouter, CoordinatorAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A task that no distributor took by its placement deadline ends abandoned; the monitor takes
 * the expired tasks out of the placement set first. An abandon the store failed (no reply in
 * time, not run) left its task pending on no distributor, held nowhere, and cut the tick's loop:
 * the expired tasks after it were neither abandoned nor held. Both stayed pending for ever (one
 * way a task is left unplaced under load). Now the failed one is held again and the others go on.
 * The unplaced sweep, which would find them later, is off here: the monitor alone must not lose them.
 */
describe.each(testEngines("placement-expiry-abandon-fails"))(
  "an expired task's abandon failing on $name",
  (engine) => {
    const stops = stopsPerTest(engine);

    it("leaves no task pending and held nowhere", async () => {
      const run = Math.random().toString(36).slice(2, 7);
      const c = new CoordinatorAgent({
        agentId: `c-${run}`,
        redis: engine.config(),
        a2a: { router: new A2ARouter() },
        timing: FAST,
        placementTimeoutMs: 200,
      });
      await c.initialize();
      stops.push(() => c.cleanup());
      vi.spyOn(c.core.unplacedSweep, "tick").mockResolvedValue([]);
      const abandon = c.ledger.abandon.bind(c.ledger);
      let failed = 0;
      vi.spyOn(c.ledger, "abandon").mockImplementation((taskId, ...rest) => {
        if (failed++ === 0) return Promise.reject(new Error("no reply from the store in time"));
        return abandon(taskId, ...rest);
      });
      // No distributor: both are held unplaced, and expire.
      const ids = [`x-${run}-1`, `x-${run}-2`];
      expect(await c.submitTasks(ids.map((task_id) => ({ task_id, task_type: "echo" })))).toEqual([
        true,
        true,
      ]);
      for (const id of ids)
        await expect
          .poll(async () => (await c.ledger.get(id))?.task.status, { timeout: 20_000, interval: 50 })
          .toBe("abandoned");
      expect(failed).toBeGreaterThanOrEqual(3);
    }, 45_000);
  },
);
