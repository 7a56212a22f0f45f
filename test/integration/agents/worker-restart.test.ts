import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A worker stopped gracefully with attempts queued and started again under the same id (a
 * rolling restart): what it never started runs once, on whichever worker, and what it ran is
 * not run again.
 */
describe.each(testEngines("worker-restart"))("a worker restarted under its id ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("runs each task once: those queued on it when it stopped are taken back, not run twice", async () => {
    const runs = new Map<string, number>();
    const c = cluster({
      concurrency: 4,
      handlers: {
        sleep: async (task: Task) => {
          runs.set(task.taskId, (runs.get(task.taskId) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 600));
          return { ok: true };
        },
      },
    });
    await c.startCoordinator();
    await c.startDistributor("d1");
    const w1 = await c.startWorker("w1", "d1");
    await c.ready();
    const ids = Array.from({ length: 8 }, (_, i) => c.id(`t${i}`));
    for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: {} });
    // Four run, four wait on the worker.
    const until = Date.now() + 5000;
    while ((runs.size < 4 || w1.core.load + w1.core.backlogSize < 8) && Date.now() < until)
      await new Promise((r) => setTimeout(r, 10));
    expect(runs.size).toBe(4);
    await w1.shutdown(5000);
    await c.startWorker("w1", "d1");
    for (const id of ids) {
      const done = await c.coordinator.waitForTask(id, 20_000);
      expect(done, JSON.stringify(done)).toMatchObject({ status: "completed" });
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(
      [...runs.values()].filter((n) => n !== 1),
      JSON.stringify([...runs]),
    ).toEqual([]);
    expect(c.stale).toEqual([]);
  }, 40_000);
});
