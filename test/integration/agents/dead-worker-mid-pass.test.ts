import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { pendingTask } from "../../helpers/task-dict.js";
import { until } from "../../helpers/wait.js";

/**
 * A worker declared dead while a pass has an attempt for it out to the store: the task is
 * dispatched again at once to a live worker, not after a heartbeat timeout (30 s here), and runs
 * once; the attempt the late dispatch script recorded for the dead worker is not sent to it.
 */
describe.each(testEngines("dead-worker-mid-pass"))(
  "a worker dead in the middle of a pass on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);

    it("has its attempt dispatched again to a live worker at once", async () => {
      const runs = new Map<string, string[]>();
      const cluster = newCluster({
        timing: { ...FAST, leaseTtlMs: 30_000, heartbeatTimeoutMs: 30_000 },
        handlers: {
          counted: async (task) => {
            runs.set(task.taskId, [...(runs.get(task.taskId) ?? []), task.assignedTo ?? "?"]);
            return { ok: true };
          },
        },
      });
      await cluster.startCoordinator();
      const d1 = await cluster.startDistributor("d1");
      await until("d1 owns its lease", () => d1.core.lease.owns, 10_000);
      const gone = cluster.id("gone");
      d1.core.onWorkerRegister(gone, null, 1).taskTypes = ["counted"]; // as its heartbeat would say
      const id = cluster.id("t");
      const placed = await cluster.coordinator.ledger.submit(
        {
          taskId: id,
          taskType: "counted",
          payload: {},
          createdAt: new Date().toISOString(),
          maxRetries: 0,
          backoffMs: 0,
        },
        d1.agentId,
      );
      expect(placed).toBe(true);
      const ledger = d1.ledger;
      const dispatchMany = ledger.dispatchMany.bind(ledger);
      const held: Array<() => void> = [];
      let hold = true;
      ledger.dispatchMany = (plan, distributor, taskIdOf, workerIdOf) =>
        hold
          ? new Promise((resolve, reject) => {
              held.push(() => dispatchMany(plan, distributor, taskIdOf, workerIdOf).then(resolve, reject));
            })
          : dispatchMany(plan, distributor, taskIdOf, workerIdOf);
      // What is sent to the dead worker (were it only slow, it would run the attempt, refused at its commit).
      const toGone: string[] = [];
      const deliver = cluster.router.deliver.bind(cluster.router);
      cluster.router.deliver = (message, ...rest) => {
        if (message.recipient === gone) toGone.push(JSON.stringify(message));
        return deliver(message, ...rest);
      };
      d1.core.onAssign([{ ...pendingTask(id), task_type: "counted" }]);
      await until("the pass's dispatch to the worker is out", () => held.length === 1);
      // Declared dead now (its heartbeats stopped long ago).
      d1.core.registry.get(gone)!.lastSeen = performance.now() - 60_000;
      await d1.core.monitorWorkers();
      expect(d1.core.registry.get(gone)?.status).toBe("dead");
      await cluster.startWorker("w2", "d1");
      hold = false;
      held[0]!();
      const done = await cluster.coordinator.waitForTask(id, 10_000);
      expect(done).toMatchObject({ status: "completed" });
      expect(runs.get(id)).toEqual([cluster.id("w2")]);
      expect(toGone).toEqual([]); // its attempt, recorded once the worker was dead, was not sent to it
    });
  },
);
