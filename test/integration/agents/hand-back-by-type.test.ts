import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { completedOnceOn, submitNew, typedCluster } from "../../helpers/typed-cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * Hand-backs: a distributor holding a task none of its live workers runs asks the coordinator,
 * which moves it to a distributor it knows runs the type (src/agents/coordinator/type-hand-back.ts);
 * a type no distributor runs still fails as unknown, as the contract says.
 */

/** A handler that starts a task and never ends it (its worker crashes with it), and when it started one. */
function hangs(): { handler: () => Promise<never>; started: Promise<void> } {
  let started!: () => void;
  const startedOne = new Promise<void>((r) => {
    started = r;
  });
  return {
    handler: () => {
      started();
      return new Promise(() => {});
    },
    started: startedOne,
  };
}

describe.each(testEngines("hand-back-by-type", { cluster: true }))(
  "hand-back by task type on $name",
  (engine) => {
    const start = clusterPerTest(engine);
    // A long heartbeat timeout: a loaded machine must not have a distributor declared dead while
    // the test runs (its tasks would move for that reason, not this one).
    const timing = { ...FAST, heartbeatTimeoutMs: 3000 };

    it("a task taken back from its holder's only worker of its type (crashed) moves to the distributor whose worker runs it, and completes there", async () => {
      const cluster = start({ timing, concurrency: 2 });
      // w1 starts the task and never ends it: it crashes with it.
      const onW1 = hangs();
      const { runs } = await typedCluster(cluster, {
        d1: { w1: { first: onW1.handler }, w1b: { second: () => ({ ran: "second" }) } },
        d2: { w2: { second: () => ({ ran: "second" }) } },
      });

      const id = await submitNew(cluster, "moved-1", "first");
      await onW1.started;
      await cluster.crash(cluster.workers.get("w1")!);
      // d2 gets a worker that runs "first"; d1 has none alive (w1 is remembered dead: before, the
      // task waited there for it to come back, for the dead-agent retention).
      await cluster.startWorker("w3", "d2", { first: () => ({ ran: "w3" }) });
      await until("the coordinator knows d2 runs first", () => runs("d2", "first"), 20_000);

      await completedOnceOn(cluster, [id], "d2", { ran: "w3" });
    }, 120_000);

    it("a task whose holder has no live worker left (its only one crashed) moves to the distributor whose worker runs its type", async () => {
      const cluster = start({ timing, concurrency: 2 });
      const onW1 = hangs();
      await typedCluster(cluster, {
        d1: { w1: { first: onW1.handler } },
        d2: { w2: { second: () => ({ ran: "second" }) } },
      });
      const id = await submitNew(cluster, "orphaned-1", "first");
      await onW1.started;
      // d1 has no live worker left: before, the task waited there for w1.
      await cluster.crash(cluster.workers.get("w1")!);
      await cluster.startWorker("w3", "d2", { first: () => ({ ran: "w3" }) });

      await completedOnceOn(cluster, [id], "d2", { ran: "w3" });
    }, 120_000);

    it("a task submitted while the only distributor that ran its type is dead waits unplaced for a distributor that joins with a worker that runs it, and runs there", async () => {
      // The coordinator's answer waits a heartbeat timeout plus an interval at most for a
      // runner: a long timeout, so that d3 and its worker join within it on a loaded machine.
      const cluster = start({ timing: { ...FAST, heartbeatTimeoutMs: 8000 }, concurrency: 2 });
      const typed = await typedCluster(cluster, {
        d1: { w1: { first: () => ({ ran: "w1" }) } },
        d2: { w2: { second: () => ({ ran: "second" }) } },
      });
      await typed.crashDistributor("d1");

      const id = await submitNew(cluster, "after-d1", "first");
      // Its only runner (d1) is dead but remembered: it waits on no distributor (before, it was
      // placed as any task, on d2, whose worker does not run it).
      const record = await cluster.coordinator.ledger.get(id);
      expect([record?.task.status, record?.distributor]).toEqual(["pending", null]);
      await cluster.startDistributor("d3");
      await cluster.startWorker("w3", "d3", { first: () => ({ ran: "w3" }) });

      await completedOnceOn(cluster, [id], "d3", { ran: "w3" });
    }, 120_000);

    it("a task of a type no distributor runs still fails as an unknown type (the hand-back keeps it where it is)", async () => {
      const cluster = start({ timing, concurrency: 2 });
      await typedCluster(cluster, {
        d1: { w1: { first: () => ({ ran: "first" }) } },
        d2: { w2: { second: () => ({ ran: "second" }) } },
      });
      const id = await submitNew(cluster, "nobody-runs-it", "third");
      const done = await cluster.coordinator.waitForTask(id, 60_000);
      expect(done?.status).toBe("failed");
      expect(String(done?.error)).toContain('unknown task type "third"');
    }, 120_000);
  },
);
