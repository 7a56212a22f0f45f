import { describe, expect, it } from "vitest";
import type { Task } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { heldUntilOpen } from "../../helpers/held-until-open.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor stopped gracefully says so in a last heartbeat once its workers' attempts have
 * drained: its coordinator moves the tasks it still held (queued, never sent to a worker) at
 * once, not a heartbeat timeout later (20 s here).
 */
/** One attempt at a time per worker; a distributor is declared dead after 20 s of silence. */
const PATIENT_ONE = { concurrency: 1, timing: { ...FAST, heartbeatTimeoutMs: 20_000 } };

describe.each(testEngines("distributor-stop"))("a distributor stopped gracefully ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("has what it queued moved at once to another distributor, each task run once", async () => {
    const runs = new Map<string, number>();
    const c = cluster({
      ...PATIENT_ONE,
      handlers: {
        slow: async (task: Task) => {
          runs.set(task.taskId, (runs.get(task.taskId) ?? 0) + 1);
          await new Promise((r) => setTimeout(r, 100));
          return { ok: true };
        },
      },
    });
    const d1 = await c.startOne();
    // All placed on d1 (alone): one runs, a few wait on its worker, the rest in its queue.
    const ids = Array.from({ length: 20 }, (_, i) => c.id(`t${i}`));
    for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "slow", payload: {} });
    // Each takes 100 ms: under load the first may end before the last is submitted.
    const endedOnD1 = () => c.commits.filter((x) => x.by === d1.agentId).length;
    await until(
      "d1 holds them all (or ran them)",
      () => d1.core.heartbeat(null).load + endedOnD1() === ids.length,
    );
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    await c.ready();
    const stopped = d1.shutdown(10_000);
    for (const id of ids) {
      const done = await c.coordinator.waitForTask(id, 10_000);
      expect(done, id).toMatchObject({ status: "completed" });
    }
    await stopped;
    expect([...runs.values()].filter((n) => n !== 1)).toEqual([]);
    expect(c.commits.filter((x) => x.by === c.id("d2")).length).toBeGreaterThan(0);
  }, 60_000);

  it("dispatches nothing more while it drains: a task its reconcile adopts meanwhile is moved", async () => {
    const { c, ranOn, open } = heldUntilOpen(cluster, PATIENT_ONE);
    const d1 = await c.startOne();
    const ids = Array.from({ length: 4 }, (_, i) => c.id(`t${i}`));
    for (const id of ids) await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
    await until("w1 runs one", () => ranOn.size === 1);
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    await c.ready();
    const stopped = d1.shutdown(10_000); // its attempts are held by the gate: it drains until it opens
    // A task recorded on d1 (as the submit script places one), which d1's memory does not hold:
    // its reconcile adopts it while it drains.
    const late = c.id("late");
    const createdAt = new Date().toISOString();
    const placed = await c.coordinator.ledger.submit(
      { taskId: late, taskType: "held", payload: {}, createdAt, maxRetries: 0, backoffMs: 0 },
      d1.agentId,
    );
    expect(placed).toBe(true);
    await d1.core.reconcile();
    expect(d1.core.heldTask(late)).toBeDefined();
    open();
    for (const id of [...ids, late]) {
      const done = await c.coordinator.waitForTask(id, 10_000);
      expect(done, id).toMatchObject({ status: "completed" });
    }
    await stopped;
    // Not sent to d1's worker after the stop began: moved once d1 stopped, and run on d2's.
    expect(ranOn.get(late)).toBe(c.id("w2"));
    expect(c.commits.find((x) => x.taskId === late)?.by).toBe(c.id("d2"));
  }, 60_000);

  it("reports no room while it drains: tasks submitted meanwhile go to another distributor", async () => {
    const { c, ranOn, open } = heldUntilOpen(cluster, PATIENT_ONE);
    const d1 = await c.startOne();
    const first = c.id("first");
    await c.coordinator.submitTask({ task_id: first, task_type: "held", payload: {} });
    await until("w1 runs it", () => ranOn.size === 1);
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    await c.ready();
    const stopped = d1.shutdown(10_000); // its attempt is held by the gate: it drains until it opens
    expect(d1.core.heartbeat(null).capacity).toBe(0);
    await until(
      "the coordinator hears that d1 has no room",
      () => c.coordinator.core.directory.get(d1.agentId)?.capacity === 0,
    );
    const later = Array.from({ length: 4 }, (_, i) => c.id(`later${i}`));
    for (const id of later) await c.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
    // Not one placed on d1, to wait there until it stops and is moved.
    expect(d1.core.load).toBe(1);
    open();
    for (const id of [first, ...later]) {
      const done = await c.coordinator.waitForTask(id, 10_000);
      expect(done, id).toMatchObject({ status: "completed" });
    }
    await stopped;
    for (const id of later) expect(ranOn.get(id), id).toBe(c.id("w2"));
  }, 60_000);
});
