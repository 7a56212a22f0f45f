import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { BoundedMap } from "../../../src/agents/observe/bounded-map.js";
import type { Task, TaskDict } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * The coordinator's window of finished tasks (`recent`, 10,000 by default: two generations of
 * 5,000) answers getTask and waitForTask for tasks that ended. An id known open here is never in
 * it (a submit forgets the id's earlier end), so neither waiting for an open task nor taking its
 * end from its distributor looks there: before, each looked in both generations (four lookups of
 * a big map a task, a third of the observers' CPU with 100 tasks in flight). Once the task has
 * ended, the window answers as before.
 */
describe.each(testEngines("recent-window"))("the finished-task window on $name", (engine) => {
  beforeAll(() => engine.setup(), 60_000);
  afterAll(() => engine.teardown());

  it("is not looked in for a task open here, waited for and ended; it answers once the task ended", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    const held = async (_task: Task) => {
      started++;
      await gate;
      return { ok: true };
    };
    const cluster = new TestCluster(engine.config(), { handlers: { held }, concurrency: 16 });
    try {
      const c = await cluster.startCoordinator();
      await cluster.startDistributor("d1");
      await cluster.startWorker("w1", "d1");
      await cluster.ready();
      const recent = (c.core as unknown as { recent: BoundedMap<string, TaskDict> }).recent;
      const ids = Array.from({ length: 10 }, (_, i) => cluster.id(`held-${i}`));
      const looked: string[] = [];
      const get = vi.spyOn(recent, "get").mockImplementation(function (this: typeof recent, id) {
        looked.push(`get ${id}`);
        return Object.getPrototypeOf(recent).get.call(this, id);
      });
      const has = vi.spyOn(recent, "has").mockImplementation(function (this: typeof recent, id) {
        looked.push(`has ${id}`);
        return Object.getPrototypeOf(recent).has.call(this, id);
      });
      try {
        for (const id of ids)
          expect(await c.submitTask({ task_id: id, task_type: "held", payload: {} })).toBe(true);
        // Every one waited for while it is open: held by its handler until all are.
        const waits = ids.map((id) => c.waitForTask(id, 30_000));
        await until("every task runs", () => started === ids.length, 20_000);
        release();
        const ended = await Promise.all(waits);
        expect(ended.map((t) => [t?.task_id, t?.status, t?.error ?? null])).toEqual(
          ids.map((id) => [id, "completed", null]),
        );
        expect(looked).toEqual([]);
        expect(c.core.stats.completed).toBe(ids.length);
        // Ended: the window answers, without the store.
        for (const id of ids)
          expect(await c.waitForTask(id, 1)).toMatchObject({ task_id: id, status: "completed" });
        expect(looked).toEqual(ids.map((id) => `get ${id}`));
      } finally {
        get.mockRestore();
        has.mockRestore();
      }
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
