import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A task's run_at holds back its first start only (SPEC "Scheduling controls": not dispatched
 * before it; expires_at likewise speaks of the start). One started early (the seed's explicit
 * assignTaskToWorker, "run it now") whose attempt is taken back — its worker died, or handed it
 * back — runs again at once: it waited in the distributor's queue for its run_at again, an hour
 * here, as if it had never started.
 */
describe.each(testEngines("run-early-taken-back", { cluster: true }))(
  "a task run early on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);

    it("runs again at once when its early attempt is taken back from a dead worker", async () => {
      let calls = 0;
      const cluster = newCluster({
        timing: { ...FAST, heartbeatTimeoutMs: 1500, leaseTtlMs: 3000 },
        handlers: {
          // The first attempt never ends (its worker is killed while it runs); the next completes.
          job: () => (++calls === 1 ? new Promise(() => {}) : { ok: true }),
        },
      });
      const d1 = await cluster.startOne(30_000);
      const [coordinator, w1] = [cluster.coordinator, cluster.workers.get("w1")!];
      const id = cluster.id("early");
      const runAt = new Date(Date.now() + 3_600_000).toISOString();
      expect(await coordinator.submitTask({ task_id: id, task_type: "job", run_at: runAt })).toBe(true);
      expect((await coordinator.ledger.get(id))?.distributor).toBeNull(); // delayed: on no distributor

      // Run now, before its run_at, on w1; w1 is killed while the attempt runs.
      const task = (await coordinator.ledger.get(id))!.task;
      expect(await d1.core.assignTaskToWorker(task as never, w1.agentId)).toBe(true);
      await until("the early attempt runs", () => calls === 1, 30_000);
      await cluster.startWorker("w2", "d1");
      await until(
        "d1 knows w2",
        () => d1.core.registry.alive().some((w) => w.id === cluster.id("w2")),
        30_000,
      );
      await cluster.crash(w1);

      const done = await coordinator.waitForTask(id, 30_000);
      expect(done).toMatchObject({ status: "completed", attempts: 2, assigned_to: cluster.id("w2") });
      expect(Date.parse(done!.started_at as string)).toBeLessThan(Date.parse(runAt));
    }, 90_000);
  },
);
