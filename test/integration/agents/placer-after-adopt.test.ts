import { describe, expect, it } from "vitest";
import { FaultyRouter } from "../../helpers/cluster.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { PATIENT, standbyPair } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * A task placed by another coordinator than its distributor's own has its end reported to the
 * one that placed it. When the distributor's reconcile adopted the task from the store before
 * the assignment came (its message late on a loaded machine), the assignment found it held and
 * was skipped, placer and all: the end went to the distributor's own coordinator, which heard
 * it first-hand (counted it, kept it in its window) and told every coordinator of it; the one
 * that placed it and held its waiters heard it only from that news (seen in several-coordinators:
 * tasks accepted and awaited through c1 were told of by c2).
 */
describe.each(testEngines("placer-after-adopt"))(
  "a task adopted from the store before its assignment came, on $name",
  (engine) => {
    const stops = stopsPerTest(engine);

    it("has its end reported to the coordinator that placed it", async () => {
      const release: Array<() => void> = [];
      const run = Math.random().toString(36).slice(2, 7);
      // d reports to c2; c1 places the task on it.
      const { c1, c2, d } = await standbyPair({
        router: new FaultyRouter(),
        redis: engine.config(),
        run,
        stops,
        timing: PATIENT,
        worker: { handlers: { held: () => new Promise((resolve) => release.push(() => resolve({}))) } },
      });
      await until(
        "each sees the other and the distributor",
        () =>
          [c1, c2].every(
            (c) => c.cluster.peers.hasOthers && (c.core.directory.get(d.agentId)?.capacity ?? 0) > 0,
          ),
        30_000,
      );
      const id = `adopted-${run}`;

      // c1's assignment is held back: the store says the task is d's, d's memory does not know it.
      const onAssign = d.core.onAssign.bind(d.core);
      let held: Parameters<typeof onAssign> | undefined;
      d.core.onAssign = (tasks, from) => {
        if (tasks.some((t) => t.task_id === id)) held = [tasks, from];
        else onAssign(tasks, from);
      };
      expect(await c1.submitTask({ task_id: id, task_type: "held", payload: {} })).toBe(true);
      await until("its assignment is held back", () => held !== undefined, 30_000);
      expect(held![1]).toBe(c1.agentId);

      // d's reconcile adopts it from the store; then the assignment comes. The task runs until released.
      await d.core.reconcile();
      expect(d.core.heldTask(id)).toBeDefined();
      onAssign(...held!);
      d.core.onAssign = onAssign;
      await until("the task runs", () => release.length > 0, 30_000);
      for (const end of release) end();

      expect((await c1.waitForTask(id, 30_000))?.status).toBe("completed");
      await until(
        "a coordinator heard the end first-hand",
        () => c1.core.stats.completed + c2.core.stats.completed > 0,
        30_000,
      );
      // Reported to c1, which placed it: heard there first-hand, not at d's own c2.
      expect(c1.core.stats.completed).toBe(1);
      expect(c2.core.stats.completed).toBe(0);
      expect(c1.core.recentTasks().map((t) => t.task_id)).toContain(id);
    }, 60_000);
  },
);
