import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { completedOnceOn, type TypedLayout, typedCluster } from "../../helpers/typed-cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor back without its workers (restarted: its first heartbeats list none) is still
 * taken, for the dead-agent retention, for the runner of the types its workers ran: its tasks
 * wait there for a worker (wait-for-worker-type-runner.test.ts). The store now knows that too: a
 * coordinator that restarts meanwhile reads those types with the registry, and places such a
 * task on that distributor to wait, as the one before it would have. Before, the heartbeat that
 * listed no worker wrote "none" to the store: the restarted coordinator did not know the type,
 * placed its tasks on a distributor that does not run it, and they failed there as unknown.
 */

/** d1 runs `a`, d2 `b`: the test restarts d2 without its worker. */
const ABOUT_B: TypedLayout = {
  d1: { w1: { a: () => ({ ran: "a" }) } },
  d2: { w2: { b: () => ({ ran: "b" }) } },
};
const B_AGAIN = { ran: "b again" };

describe.each(testEngines("restart-remembers-types"))(
  "a coordinator restarted while a distributor is back without its workers, on $name",
  (engine) => {
    const start = clusterPerTest(engine);

    it("knows the types that distributor's workers ran from the store: its tasks wait there and run once a worker is back", async () => {
      const cluster = start({ timing: { ...FAST, heartbeatTimeoutMs: 1500 }, concurrency: 2 });
      const typed = await typedCluster(cluster, ABOUT_B);
      const d2 = cluster.id("d2");
      await typed.crashDistributor("d2", "w2");
      await cluster.startDistributor("d2");
      const entry = () => cluster.coordinator.core.directory.get(d2);
      await until(
        "d2 is back without a live worker",
        () =>
          entry()?.status !== "dead" &&
          entry()?.ownsLease === true &&
          entry()?.workers.every((w) => w.status === "dead") === true,
        30_000,
      );
      // Two heartbeats more: the types the first one changed are written by now.
      for (let k = 0; k < 2; k++) {
        const sentAt = entry()?.sentAt;
        await until("d2 heartbeats again", () => entry()?.sentAt !== sentAt, 30_000);
      }

      // Restarted now: it never heard d2's workers.
      await cluster.coordinator.cleanup();
      const coordinator = await cluster.startCoordinator();
      await until("d1 is heard", () => typed.runs("d1", "a"), 30_000);
      await until(
        "d2 is heard",
        () => entry()?.lastHeartbeatAt != null && entry()?.ownsLease === true,
        30_000,
      );

      const ids = [1, 2].map((n) => cluster.id(`restart-b-${n}`));
      for (const id of ids)
        expect(await coordinator.submitTask({ task_id: id, task_type: "b", payload: {} })).toBe(true);
      const a = cluster.id("restart-a");
      expect(await coordinator.submitTask({ task_id: a, task_type: "a", payload: {} })).toBe(true);
      expect((await coordinator.waitForTask(a, 30_000))?.status).toBe("completed");
      await until(
        "the b tasks are placed (or one ended)",
        async () => {
          const records = await Promise.all(ids.map((id) => coordinator.ledger.get(id)));
          return records.every((r) => r?.distributor != null || r?.task.status !== "pending");
        },
        30_000,
      );
      for (const id of ids) {
        const record = await coordinator.ledger.get(id);
        // Before: placed on d1, whose worker runs only `a`, and failed there as unknown.
        expect([record?.task.status, record?.distributor], id).toEqual(["pending", d2]);
      }

      await cluster.startWorker("w2b", "d2", { b: () => B_AGAIN });
      await completedOnceOn(cluster, ids, "d2", B_AGAIN);
    }, 120_000);
  },
);
