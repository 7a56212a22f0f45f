import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { pendingTask } from "../../helpers/task-dict.js";
import { until } from "../../helpers/wait.js";

/**
 * The seed's explicit path (DistributorAgent.assignTaskToWorker) dispatches as a pump pass does,
 * one at a time with them: it ran beside a pass, and could take a task out from under a pass
 * that had it out to the store (its planned attempt dropped from its worker while that pass's
 * dispatch script was out, the two scripts' fences set on the worker in either order).
 */
describe.each(testEngines("assign-task-to-worker"))("assignTaskToWorker on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  it("waits for a pass out to the store before it dispatches", async () => {
    // A lease long enough that the pass below is not past its bound while its call is held.
    const cluster = newCluster({ timing: { ...FAST, leaseTtlMs: 30_000, heartbeatTimeoutMs: 30_000 } });
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await until("d1 owns its lease", () => d1.core.lease.owns, 10_000);
    const w = cluster.id("w");
    d1.core.onWorkerRegister(w, null, 1);
    const id = cluster.id("t");
    const placed = await cluster.coordinator.ledger.submit(
      {
        taskId: id,
        taskType: "echo",
        payload: {},
        createdAt: new Date().toISOString(),
        maxRetries: 0,
        backoffMs: 0,
      },
      d1.agentId,
    );
    expect(placed).toBe(true);
    // Every dispatch script call is held until released, then runs for real.
    const ledger = d1.ledger;
    const dispatchMany = ledger.dispatchMany.bind(ledger);
    const calls: Array<{ ids: string[]; release: () => void }> = [];
    ledger.dispatchMany = (plan, distributor, taskIdOf, workerIdOf) =>
      new Promise((resolve, reject) => {
        calls.push({
          ids: plan.map(taskIdOf),
          release: () => dispatchMany(plan, distributor, taskIdOf, workerIdOf).then(resolve, reject),
        });
      });
    // The explicit path's reads, counted: its last read comes right before it dispatches.
    const get = ledger.get.bind(ledger);
    let reads = 0;
    ledger.get = async (taskId) => {
      const record = await get(taskId);
      if (taskId === id) reads++;
      return record;
    };
    d1.core.onAssign([pendingTask(id)]);
    await until("the pass's dispatch is out", () => calls.length === 1);
    const explicit = d1.core.assignTaskToWorker(pendingTask(id), w);
    await until("the explicit path has read the task twice", () => reads === 2);
    await new Promise((r) => setImmediate(r));
    expect(calls.length).toBe(1); // not a second dispatch beside the pass's
    calls[0]!.release();
    await until("the explicit dispatch is out", () => calls.length === 2);
    calls[1]!.release();
    expect(await explicit).toBe(true);
    // The worker holds the explicit attempt, the one the ledger records.
    const record = await get(id);
    expect(d1.core.registry.get(w)?.inFlight.get(id)?.fence).toBe(record?.fence);
  });

  it("answers false on a distributor that stopped, not never", async () => {
    const cluster = newCluster({ timing: FAST });
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await until("d1 owns its lease", () => d1.core.lease.owns, 10_000);
    await d1.core.stop(false);
    expect(await d1.core.assignTaskToWorker(pendingTask(cluster.id("late")), cluster.id("w"))).toBe(false);
  });
});
