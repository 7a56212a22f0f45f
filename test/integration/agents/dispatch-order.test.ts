import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type DistributorAgent, type Task, type TaskHandler, WorkerAgent } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * First in, first out within a type when the pool is mixed and one type's workers are busy: a
 * task whose type has no free worker keeps its place in the distributor's queue while the idle
 * workers of another type have room. (Such tasks went to the back of the queue, behind later
 * ones of their own type, each time the pump found no room for them.)
 */

describe.each(testEngines("dispatch-order"))("dispatch order in a mixed pool ($name)", (engine) => {
  let cluster: TestCluster | undefined;
  beforeAll(() => engine.setup());
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());

  it("a busy type's tasks start in the order they came, while another type's worker is idle", async () => {
    const started: string[] = [];
    const slow: TaskHandler<Task> = async (task) => {
      started.push(task.taskId);
      await sleep(30);
      return null;
    };
    cluster = new TestCluster(engine.config());
    const c = cluster;
    await c.startCoordinator();
    const d: DistributorAgent = await c.startDistributor("d1");
    // One worker runs `x`, one slot at a time; another runs only `y`, and stays idle.
    for (const [name, handlers] of [
      ["wx", { x: slow }],
      ["wy", { y: slow }],
    ] as const) {
      const w = new WorkerAgent({
        agentId: c.id(name),
        distributorId: d.agentId,
        a2a: { router: c.router },
        timing: FAST,
        concurrency: 1,
        handlers,
      });
      await w.initialize();
      c.workers.set(name, w);
    }
    await c.ready();
    await until("both workers are alive", () => d.core.registry.alive().length === 2, 5000);

    const ids = Array.from({ length: 12 }, (_, i) => `x-${engine.name}-${String(i).padStart(2, "0")}`);
    const created = await c.coordinator.submitTasks(
      ids.map((id) => ({ task_id: id, task_type: "x", payload: {} })),
    );
    expect(created.every(Boolean)).toBe(true);
    for (const id of ids) expect(await c.coordinator.waitForTask(id, 20_000)).not.toBeNull();
    expect(started).toEqual(ids);
  });

  it("a batch adopted from the store before its assignment message came takes the message's order", async () => {
    cluster = new TestCluster(engine.config());
    const c = cluster;
    const coordinator = await c.startCoordinator();
    // No worker: what the distributor holds stays queued, in the order it would start.
    const d = await c.startDistributor("d1");
    await until("the distributor owns its lease", () => d.core.lease.owns, 5000);
    const ids = Array.from({ length: 12 }, (_, i) => `batch-${engine.name}-${String(i).padStart(2, "0")}`);
    const createdAt = new Date().toISOString(); // one batch: one created_at
    const tasks = ids.map((id) => ({ task_id: id, task_type: "x", payload: {}, created_at: createdAt }));
    // Recorded on the distributor (as the submit script places them), the message not come yet:
    // reconcile adopts them in the store's order (by shard), not the batch's.
    for (const t of tasks) {
      const placed = await coordinator.ledger.submit(
        { taskId: t.task_id, taskType: "x", payload: {}, createdAt, maxRetries: 2, backoffMs: 20 },
        d.agentId,
      );
      expect(placed).toBe(true);
    }
    await d.core.reconcile();
    expect(new Set(d.core.queue.ids())).toEqual(new Set(ids));
    // The assignment message comes: the batch takes its order.
    d.core.onAssign(
      tasks.map((t) => ({
        ...t,
        status: "pending" as const,
        result: null,
        error: null,
        attempts: 0,
        assigned_to: null,
        started_at: null,
        completed_at: null,
      })),
      coordinator.agentId,
    );
    expect(d.core.queue.ids()).toEqual(ids);
  });
});
