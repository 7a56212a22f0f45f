import { describe, expect, it } from "vitest";
import { taskCounts } from "../../../src/server/dashboard/cluster-view.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine. */
const WAIT_MS = 30_000;
/**
 * How long each task runs: long enough that all six are still running once the six cancels,
 * one after the other, are through on a loaded machine (800 ms was not: the last ones had ended).
 */
const RUN_MS = 4000;

/**
 * A client's cancel through another coordinator than the one that accepted and placed a running
 * task: the canceling coordinator ends it (counted there, first-hand), the waiter on the
 * accepting one is answered, and the attempt's late result (refused by the fence) counts nothing
 * again: the cluster counts each task abandoned once.
 */
describe.each(testEngines("cancel-elsewhere-counts"))(
  "a cancel through another coordinator on $name",
  (engine) => {
    const cleanups = stopsPerTest(engine);
    it("counts a running task canceled through another coordinator abandoned once, in the whole cluster", async () => {
      const { c1, c2, d } = await twoCoordinators(engine.config(), cleanups);
      const ids = Array.from({ length: 6 }, (_, i) => `x-${i}`);
      for (const id of ids) await c2.submitTask({ task_id: id, task_type: "sleep", payload: { ms: RUN_MS } });
      await until(
        "every one runs",
        async () =>
          (await Promise.all(ids.map((id) => c1.core.getTask(id)))).every((t) => t?.status === "in_progress"),
        WAIT_MS,
      );
      const waiting = ids.map((id) => c2.waitForTask(id, WAIT_MS));
      for (const id of ids) expect(await c1.cancelTask(id, "test")).toBe(true);
      const done = await Promise.all(waiting);
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "abandoned"));
      // The attempts' late results come back (the worker stops each attempt canceled, or it runs
      // to its end) and the distributor's commit is refused by the fence: waited for, not slept
      // on (a loaded machine may take longer than the run). Only then are the counts final.
      await until(
        "the six attempts' results are refused",
        () => d.core.stats.staleRejected >= ids.length,
        WAIT_MS,
      );
      expect(c1.core.stats.abandoned + c2.core.stats.abandoned).toBe(ids.length);
      // c1's totals are the store's counts as its last tick read them: `submitted` was 6 before the
      // cancels, so wait for the abandons to be read; an end counted twice shows as 12.
      await until("c1's totals have the six abandons", () => taskCounts(c1).abandoned >= ids.length, WAIT_MS);
      expect(taskCounts(c1)).toMatchObject({ submitted: ids.length, abandoned: ids.length, completed: 0 });
    }, 120_000);
  },
);
