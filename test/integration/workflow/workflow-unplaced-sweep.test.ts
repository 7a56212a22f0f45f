import { describe, expect, it, vi } from "vitest";
import type { JsonValue } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * The unplaced sweep (src/agents/coordinator/unplaced-sweep.ts): an open task pending on no
 * distributor, waiting on nothing, that the coordinator does not hold for placement — what a
 * lost step leaves (seen once under heavy load: a fan-out part that never ran) — is found in the
 * store by the shard owner's sweep and placed. Here such tasks are made in the store behind the
 * coordinator's back (recorded through the ledger, a dependent made ready by a notice applied
 * there), so nothing but the sweep places them.
 */
describe.each(testEngines("workflow-unplaced-sweep", { cluster: true }))(
  "the unplaced sweep on $name",
  (engine) => {
    const start = clusterPerTest(engine);

    it("places an open task nothing would place, and it completes", async () => {
      const cluster = start({ handlers: { step: (): JsonValue => ({ ok: true }) } });
      await cluster.startOne();
      const c = cluster.coordinator;
      const found: string[] = [];
      const sweep = c.core.unplacedSweep;
      const step = sweep.step.bind(sweep);
      vi.spyOn(sweep, "step").mockImplementation(async () => {
        const ids = await step();
        found.push(...ids);
        return ids;
      });
      const [a, b, lone] = [cluster.id("a"), cluster.id("b"), cluster.id("lone")];
      await c.submitTask({ task_id: a, task_type: "step" });
      expect(await c.waitForTask(a, 20_000)).toMatchObject({ status: "completed" });
      const base = {
        taskType: "step",
        payload: {},
        createdAt: new Date().toISOString(),
        maxRetries: 2,
        backoffMs: 10,
      };
      // Behind the coordinator's back: a task recorded on no distributor, and a dependent of `a`
      // made ready by a notice applied in the store (nobody told of its verdict).
      expect(await c.ledger.submit({ ...base, taskId: lone })).toBe(true);
      expect(await c.ledger.submit({ ...base, taskId: b, dependsOn: [a] })).toBe(true);
      expect((await c.ledger.notifyDependencyEnded(b, a, "completed")).verdict).toBe("ready");
      // Nothing else places them: found by the sweep (its step spied from before they existed).
      for (const id of [lone, b])
        await expect
          .poll(async () => (await c.ledger.get(id))?.task.status, { timeout: 20_000, interval: 50 })
          .toBe("completed");
      // Each found by the sweep (a slow placement may have it adopted twice: placed once all the same).
      expect([...new Set(found)].sort()).toEqual([b, lone].sort());
    }, 45_000);
  },
);
