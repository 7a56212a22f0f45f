import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine (a bound, not a speed check). */
const WAIT_MS = 30_000;

/**
 * A worker stopped gracefully with attempts queued and started again under the same id (a
 * rolling restart): what it never started runs once, on whichever worker, and what it ran is
 * not run again.
 */
describe.each(testEngines("worker-restart"))("a worker restarted under its id ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it(
    "runs each task once: those queued on it when it stopped are taken back, not run twice",
    async () => {
      const runs = new Map<string, number>();
      // The first four run until the worker is told to stop: four are then running and four queued
      // behind them however slow the machine (a 600 ms run could end before the last four came).
      let release!: () => void;
      const held = new Promise<void>((resolve) => {
        release = resolve;
      });
      const c = cluster({
        concurrency: 4,
        handlers: {
          sleep: async (task: Task) => {
            runs.set(task.taskId, (runs.get(task.taskId) ?? 0) + 1);
            await held;
            return { ok: true };
          },
        },
      });
      await c.startOne();
      const w1 = c.workers.get("w1")!;
      const ids = Array.from({ length: 8 }, (_, i) => c.id(`t${i}`));
      for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: {} });
      // Four run, four wait on the worker.
      await until(
        "four run and four wait on w1",
        () => runs.size >= 4 && w1.core.load + w1.core.backlogSize >= 8,
        WAIT_MS,
      );
      expect(runs.size).toBe(4);
      // The running four end once it stops taking work; it waits for them (drained in time).
      const stopped = w1.shutdown(WAIT_MS);
      release();
      expect(await stopped).toBe(true);
      await c.startWorker("w1", "d1");
      for (const id of ids) {
        const done = await c.coordinator.waitForTask(id, WAIT_MS);
        expect(done, JSON.stringify(done)).toMatchObject({ status: "completed" });
      }
      // A negative check: no task runs a second time in the next 500 ms, so a fixed wait.
      await new Promise((r) => setTimeout(r, 500));
      expect(
        [...runs.values()].filter((n) => n !== 1),
        JSON.stringify([...runs]),
      ).toEqual([]);
      expect(c.stale).toEqual([]);
    },
    4 * WAIT_MS,
  );
});
