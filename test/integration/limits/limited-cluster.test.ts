import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * A concurrency limit holds over every distributor together, a type without a limit runs
 * beside it untouched, and a dead distributor's slots come back when its attempts move.
 */
describe.each(testEngines("limited-cluster"))("a limited task type on $name", (engine) => {
  beforeAll(() => engine.setup(), 60_000);
  afterAll(() => engine.teardown());

  it("never runs more than `concurrency` attempts at once across two distributors", async () => {
    let running = 0;
    let most = 0;
    const slow = async (_task: Task) => {
      running++;
      most = Math.max(most, running);
      await sleep(100); // the attempt's length, so that several overlap
      running--;
      return { ok: true };
    };
    const cluster = new TestCluster(engine.config(), { handlers: { slow, echo: (t: Task) => t.payload } });
    try {
      const c = await cluster.startCoordinator();
      await c.setLimit("slow", { concurrency: 3 });
      await cluster.startDistributor("d1");
      await cluster.startDistributor("d2");
      for (const w of ["w1", "w2"]) await cluster.startWorker(w, "d1");
      for (const w of ["w3", "w4"]) await cluster.startWorker(w, "d2");
      await cluster.ready();
      const ids = Array.from({ length: 15 }, (_, i) => `slow-${i}`);
      const echoes = Array.from({ length: 10 }, (_, i) => `echo-${i}`);
      for (const id of ids) await c.submitTask({ task_id: id, task_type: "slow", payload: {} });
      for (const id of echoes) await c.submitTask({ task_id: id, task_type: "echo", payload: {} });
      const done = await Promise.all([...ids, ...echoes].map((id) => c.waitForTask(id, 30_000)));
      expect(done.map((t) => t?.status)).toEqual([...ids, ...echoes].map(() => "completed"));
      expect(most).toBeLessThanOrEqual(3);
      expect(most).toBeGreaterThan(1); // and the limit does let several run at once
      // The slots come back just after the commits (a task's end can reach its waiter first).
      await expect
        .poll(async () => (await c.listLimits())[0], { timeout: 5_000 })
        .toMatchObject({ task_type: "slow", concurrency: 3, in_use: 0 });
    } finally {
      await cluster.stop();
    }
  }, 60_000);

  it("gives a dead distributor's slots back when its attempts move, and finishes everything", async () => {
    const started = new Set<string>();
    let hold = true;
    const cluster = new TestCluster(engine.config(), {
      handlers: {
        stuck: async (task: Task) => {
          started.add(task.taskId);
          while (hold) await sleep(10); // d1's attempts run until it dies
          await sleep(20); // the attempt's length once let go
          return { ok: true };
        },
      },
    });
    try {
      const c = await cluster.startCoordinator();
      await c.setLimit("stuck", { concurrency: 2 });
      const d1 = await cluster.startDistributor("d1");
      await cluster.startWorker("w1", "d1");
      await cluster.ready();
      const ids = Array.from({ length: 8 }, (_, i) => `stuck-${i}`);
      for (const id of ids) await c.submitTask({ task_id: id, task_type: "stuck", payload: {} });
      // d1 dies while it holds both slots: nothing gives them back but the move.
      await until("d1's worker has started two attempts", () => started.size >= 2, 20_000, 5);
      expect((await c.listLimits())[0]).toMatchObject({ in_use: 2 });
      await cluster.crash(cluster.workers.get("w1")!);
      await cluster.crash(d1);
      hold = false;
      await cluster.startDistributor("d2");
      await cluster.startWorker("w2", "d2");
      const done = await Promise.all(ids.map((id) => c.waitForTask(id, 30_000)));
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
      // Every slot came back (the last releases may still be on their way when the waits end).
      const deadline = performance.now() + 10_000;
      while ((await c.listLimits())[0]?.in_use !== 0 && performance.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect((await c.listLimits())[0]?.in_use).toBe(0);
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});

// The rate window is the same script on every engine (limit-store.test.ts runs it on all three):
// through the agents once is enough.
describe.each(testEngines("limited-rate").filter((e) => e.name === "memory"))(
  "a rate-limited task type on $name",
  (engine) => {
    it("starts no more than rate_per_s a second, the rest waiting their turn (not failed)", async () => {
      const starts: number[] = [];
      const cluster = new TestCluster(engine.config(), {
        handlers: {
          paced: () => {
            starts.push(performance.now());
            return { ok: true };
          },
        },
      });
      try {
        const c = await cluster.startCoordinator();
        await c.setLimit("paced", { rate_per_s: 5 });
        await cluster.startDistributor("d1");
        await cluster.startDistributor("d2");
        await cluster.startWorker("w1", "d1");
        await cluster.startWorker("w2", "d2");
        await cluster.ready();
        const ids = Array.from({ length: 11 }, (_, i) => `paced-${i}`);
        for (const id of ids) await c.submitTask({ task_id: id, task_type: "paced", payload: {} });
        const done = await Promise.all(ids.map((id) => c.waitForTask(id, 30_000)));
        expect(done.map((t) => [t?.status, t?.attempts])).toEqual(ids.map(() => ["completed", 1]));
        // Granted by the store's clock at most 5 in any second; seen here a little later each, so
        // count in windows of 500 ms (a start may lag its grant by up to 500 ms on a busy machine).
        starts.sort((a, b) => a - b);
        const most = Math.max(...starts.map((t) => starts.filter((u) => u >= t && u < t + 500).length));
        expect(most).toBeLessThanOrEqual(5);
        expect(starts.at(-1)! - starts[0]!).toBeGreaterThan(1000); // 11 starts need a third window
      } finally {
        await cluster.stop();
      }
    }, 60_000);
  },
);
