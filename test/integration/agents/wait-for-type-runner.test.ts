import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { completedOnceOn, submitNew, type TypedLayout, typedCluster } from "../../helpers/typed-cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * A task of a type whose only known runner is a dead distributor (remembered: within the
 * dead-agent retention) waits unplaced, pending, for it to come back, instead of being placed on
 * a distributor that does not run it, where it failed as an unknown type.
 */

/** d1 runs `a`, d2 `b`: the tests crash d2 (and its worker), b's only runner. */
const ABOUT_B: TypedLayout = {
  d1: { w1: { a: () => ({ ran: "a" }) } },
  d2: { w2: { b: () => ({ ran: "b" }) } },
};

describe.each(testEngines("wait-for-type-runner", { cluster: true }))(
  "waiting for a dead type runner on $name",
  (engine) => {
    const start = clusterPerTest(engine);

    it("tasks of a type whose only distributor crashed wait pending and run on it once it is back", async () => {
      const cluster = start({ timing: { ...FAST, heartbeatTimeoutMs: 3000 }, concurrency: 2 });
      const typed = await typedCluster(cluster, ABOUT_B);
      const coordinator = cluster.coordinator;
      await typed.crashDistributor("d2", "w2");

      const ids: string[] = [];
      for (const n of [1, 2, 3]) ids.push(await submitNew(cluster, `b-${n}`, "b"));
      // A task of `a` submitted after them completes: placement passes ran past the waiting ones.
      const a = await submitNew(cluster, "a-1", "a");
      expect((await coordinator.waitForTask(a, 30_000))?.status).toBe("completed");
      for (const id of ids) {
        const record = await coordinator.ledger.get(id);
        // Pending on no distributor (before: placed on d1, which runs only `a`).
        expect([record?.task.status, record?.distributor]).toEqual(["pending", null]);
      }

      await cluster.startDistributor("d2");
      await cluster.startWorker("w2b", "d2", { b: () => ({ ran: "b again" }) });
      await completedOnceOn(cluster, ids, "d2", { ran: "b again" });
    }, 120_000);

    it("a task held by a distributor that does not run its type, while its only runner is dead, waits there (asked about again) and moves to the runner once it is back", async () => {
      const timing = { ...FAST, heartbeatTimeoutMs: 1500 };
      const cluster = start({ timing, concurrency: 2 });
      const typed = await typedCluster(cluster, ABOUT_B);
      const coordinator = cluster.coordinator;
      // Every hand-back answer, as the coordinator gives it.
      const answers: Array<{ moved: string[]; waiting: string[] }> = [];
      const core = coordinator.core;
      const handBack = core.handBack.bind(core);
      core.handBack = (from, tasks) =>
        handBack(from, tasks).then((a) => {
          answers.push(a);
          return a;
        });

      await typed.crashDistributor("d2", "w2");
      // Held on d1 (the explicit path), whose worker does not run `b`.
      const id = cluster.id("held-b");
      expect(
        await coordinator.assignTaskToDistributor(
          { task_id: id, task_type: "b", payload: {} } as never,
          cluster.id("d1"),
        ),
      ).toBe(true);
      // Two answers given (each after a heartbeat timeout plus an interval): it waited, asked again.
      await until(
        "two hand-back answers for it",
        () => answers.filter((a) => a.waiting.includes(id)).length >= 2,
        60_000,
      );
      const record = await coordinator.ledger.get(id);
      // Before: kept after the first answer, and failed on d1 as an unknown task type.
      expect([record?.task.status, record?.distributor]).toEqual(["pending", cluster.id("d1")]);

      await cluster.startDistributor("d2");
      await cluster.startWorker("w2b", "d2", { b: () => ({ ran: "b again" }) });
      await completedOnceOn(cluster, [id], "d2", { ran: "b again" });
    }, 120_000);
  },
);
