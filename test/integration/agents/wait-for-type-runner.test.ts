import { describe, expect, it } from "vitest";
import { CoordinatorAgent } from "../../../src/index.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
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

/** What the `b` tasks' runner answers once it is back. */
const B_AGAIN = { ran: "b again" };

/** d2 back, with a worker that runs `b`. */
async function bRunnerBack(cluster: TestCluster): Promise<void> {
  await cluster.startDistributor("d2");
  await cluster.startWorker("w2b", "d2", { b: () => B_AGAIN });
}

/** Each task of `ids` waits pending on no distributor, as `coordinator` reads its record. */
async function expectUnplaced(coordinator: CoordinatorAgent, ids: string[]): Promise<void> {
  for (const id of ids) {
    const record = await coordinator.ledger.get(id);
    expect([record?.task.status, record?.distributor], id).toEqual(["pending", null]);
  }
}

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
      // Pending on no distributor (before: placed on d1, which runs only `a`).
      await expectUnplaced(coordinator, ids);

      await bRunnerBack(cluster);
      await completedOnceOn(cluster, ids, "d2", B_AGAIN);
    }, 120_000);

    it("a coordinator restarted while a type's only distributor is dead knows the type from the store: its tasks wait and run once the runner is back", async () => {
      const cluster = start({ timing: { ...FAST, heartbeatTimeoutMs: 1500 }, concurrency: 2 });
      const typed = await typedCluster(cluster, ABOUT_B);

      // Crashed without waiting for its death: the coordinator is restarted at once.
      await cluster.crash(cluster.workers.get("w2")!);
      await cluster.crash(cluster.distributors.get("d2")!);
      // Restarted: this one never heard d2's workers (it was dead before it started).
      await cluster.coordinator.cleanup();
      const coordinator = await cluster.startCoordinator();
      const directory = coordinator.core.directory;
      await until("d2 is declared dead", () => directory.get(cluster.id("d2"))?.status === "dead", 30_000);
      await until("d1 is heard", () => typed.runs("d1", "a"), 20_000);

      const ids = [1, 2].map((n) => cluster.id(`restart-b-${n}`));
      for (const id of ids)
        expect(await coordinator.submitTask({ task_id: id, task_type: "b", payload: {} })).toBe(true);
      const a = cluster.id("restart-a");
      expect(await coordinator.submitTask({ task_id: a, task_type: "a", payload: {} })).toBe(true);
      expect((await coordinator.waitForTask(a, 30_000))?.status).toBe("completed");
      // Before: `b` unknown to the restarted coordinator, placed on d1 and failed there as unknown.
      await expectUnplaced(coordinator, ids);

      await bRunnerBack(cluster);
      // (The restarted coordinator is cluster.coordinator.)
      await completedOnceOn(cluster, ids, "d2", B_AGAIN);
    }, 120_000);

    it("a second coordinator started while a type's only distributor is dead knows the type from the store: its tasks wait and run once the runner is back", async () => {
      const timing = { ...FAST, heartbeatTimeoutMs: 1500, leaseTtlMs: 3000 };
      const cluster = start({ timing, concurrency: 2 });
      const typed = await typedCluster(cluster, ABOUT_B);
      const c1 = cluster.coordinator;
      await typed.crashDistributor("d2", "w2");
      // ...and its view in the store, where c2 will read what c1 heard, no longer lists d2.
      await until(
        "c1's view leaves d2 out",
        async () => {
          const view = (await c1.store.get(`coordinator-view:${c1.agentId}`)) as {
            distributors?: Array<{ id: string }>;
          } | null;
          return view !== null && !view.distributors?.some((d) => d.id === cluster.id("d2"));
        },
        30_000,
      );

      // c2 starts now: d2 is left out of c1's view (dead), so c2 never hears its workers.
      const c2 = new CoordinatorAgent({
        agentId: cluster.id("c2"),
        redis: cluster.redis,
        a2a: { router: cluster.router },
        timing,
        placementTimeoutMs: 20_000,
      });
      await c2.initialize();
      try {
        await until(
          "c2 declares d2 dead",
          () => c2.core.directory.get(cluster.id("d2"))?.status === "dead",
          30_000,
        );
        // Tasks in shards c2 owns: c2 places them.
        const ids: string[] = [];
        await until(
          "c2 owns a shard",
          () => {
            for (let i = 0; i < 500 && ids.length < 2; i++) {
              const id = cluster.id(`second-b-${i}`);
              if (c2.cluster.ownerValue(id) !== null && !ids.includes(id)) ids.push(id);
            }
            return ids.length === 2;
          },
          30_000,
        );
        for (const id of ids)
          expect(await c2.submitTask({ task_id: id, task_type: "b", payload: {} })).toBe(true);
        await until(
          "c2 has placed its tasks (or holds them)",
          async () => {
            const records = await Promise.all(ids.map((id) => c2.ledger.get(id)));
            return records.every((r) => r?.distributor === null || r?.task.status !== "pending");
          },
          30_000,
        );
        // Before: `b` unknown to c2, placed on d1 and failed there as unknown.
        await expectUnplaced(c2, ids);

        // d2 comes back, heard by c2 only through c1's view.
        await bRunnerBack(cluster);
        for (const id of ids) {
          const done = await c2.waitForTask(id, 60_000);
          expect([done?.status, done?.error]).toEqual(["completed", null]);
          expect(done?.result).toEqual(B_AGAIN);
        }
      } finally {
        await c2.cleanup();
      }
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

      await bRunnerBack(cluster);
      await completedOnceOn(cluster, [id], "d2", B_AGAIN);
    }, 120_000);
  },
);
