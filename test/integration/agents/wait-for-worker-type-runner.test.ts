import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A task of a type whose only runners are dead workers of a distributor that lives on (or came
 * back without them), remembered there (within the dead-agent retention), waits for a runner of
 * its type, instead of being placed on a distributor none of whose workers runs it, where it
 * failed as an unknown type. Found by the chaos scenario "task type runners killed"
 * (test/chaos/scenarios/type-runners.ts). A dead distributor's case is wait-for-type-runner.test.ts.
 */

describe.each(testEngines("wait-for-worker-type-runner", { cluster: true }))(
  "waiting for a dead worker of a type on $name",
  (engine) => {
    const start = clusterPerTest(engine);

    /** d1 whose worker runs `a`, d2 whose worker runs `b`, known as such by the coordinator. */
    async function twoKinds(timing = { ...FAST, heartbeatTimeoutMs: 1500 }) {
      const cluster = start({ timing, concurrency: 2 });
      await cluster.startCoordinator();
      await cluster.startDistributor("d1");
      const d2 = await cluster.startDistributor("d2");
      await cluster.startWorker("w1", "d1", { a: () => ({ ran: "a" }) });
      const w2 = await cluster.startWorker("w2", "d2", { b: () => ({ ran: "b" }) });
      await cluster.ready(20_000);
      const directory = cluster.coordinator.core.directory;
      const workerOf = (d: string, w: string) =>
        directory.get(cluster.id(d))?.workers.find((s) => s.id === cluster.id(w));
      await until(
        "the coordinator knows d1 runs a, d2 b",
        () =>
          workerOf("d1", "w1")?.task_types.includes("a") === true &&
          workerOf("d2", "w2")?.task_types.includes("b") === true,
        20_000,
      );
      // Every hand-back answer, as the coordinator gives it.
      const answers: Array<{ moved: string[]; waiting: string[] }> = [];
      const core = cluster.coordinator.core;
      const handBack = core.handBack.bind(core);
      core.handBack = (from, tasks) =>
        handBack(from, tasks).then((a) => {
          answers.push(a);
          return a;
        });
      return { cluster, d2, w2, directory, workerOf, answers };
    }

    /** Submits `n` tasks of `b` and one of `a`; the `a` one completes (placement went past the `b` ones). */
    async function submitBoth(cluster: Awaited<ReturnType<typeof twoKinds>>["cluster"], tag: string, n = 4) {
      const coordinator = cluster.coordinator;
      const ids = Array.from({ length: n }, (_, k) => cluster.id(`${tag}-b-${k}`));
      for (const id of ids)
        expect(await coordinator.submitTask({ task_id: id, task_type: "b", payload: {} })).toBe(true);
      const a = cluster.id(`${tag}-a`);
      expect(await coordinator.submitTask({ task_id: a, task_type: "a", payload: {} })).toBe(true);
      expect((await coordinator.waitForTask(a, 30_000))?.status).toBe("completed");
      return ids;
    }

    /** Each of `ids` waits, pending, not on d1; then completes on d2 once a worker there runs `b`. */
    async function waitThenRun(
      { cluster, answers }: Pick<Awaited<ReturnType<typeof twoKinds>>, "cluster" | "answers">,
      ids: string[],
      asked: boolean,
    ) {
      const coordinator = cluster.coordinator;
      // Each placed (or one ended); with `asked`, its holder (a distributor with workers, none of
      // which runs it) also asked the coordinator about each twice and was told each time that
      // it waits for a runner. A distributor without a live worker holds its tasks and asks nothing.
      /** "ended" when one is no longer pending, "placed" when each is on a distributor. */
      const where = async () => {
        let placed = 0;
        for (const id of ids) {
          const record = await coordinator.ledger.get(id);
          if (record?.task.status !== "pending") return "ended";
          if (record.distributor !== null) placed++;
        }
        return placed === ids.length ? "placed" : "unplaced";
      };
      const told = () => ids.every((id) => answers.filter((a) => a.waiting.includes(id)).length >= 2);
      await until(
        `each b task placed${asked ? " and told twice it waits for a runner" : ""} (or one ended)`,
        async () => {
          const now = await where();
          return now === "ended" || (now === "placed" && (!asked || told()));
        },
        60_000,
      );
      for (const id of ids) {
        const record = await coordinator.ledger.get(id);
        // Before: placed on d1, whose worker runs only `a`, and failed there as an unknown task type.
        expect([record?.task.status, record?.task.error ?? null], id).toEqual(["pending", null]);
        expect(record?.distributor, id).not.toBe(cluster.id("d1"));
      }
      await cluster.startWorker("w2b", "d2", { b: () => ({ ran: "b again" }) });
      for (const id of ids) {
        const done = await coordinator.waitForTask(id, 60_000);
        expect([done?.status, done?.error, done?.result]).toEqual(["completed", null, { ran: "b again" }]);
      }
      const counts = await cluster.settled(ids, 20_000);
      for (const id of ids) expect(counts.get(id)).toBe(1);
      for (const id of ids) expect(cluster.commits.find((c) => c.taskId === id)?.by).toBe(cluster.id("d2"));
    }

    it("tasks of a type whose only worker crashed (its distributor lives on) wait and run once a worker of the type is back", async () => {
      const kinds = await twoKinds();
      const { cluster, w2, workerOf } = kinds;
      await cluster.crash(w2);
      await until("d2 declares w2 dead", () => workerOf("d2", "w2")?.status === "dead", 30_000);
      const ids = await submitBoth(cluster, "live-d2");
      await waitThenRun(kinds, ids, true);
    }, 120_000);

    it("tasks of a type whose distributor came back without its workers wait and run once a worker of the type is back", async () => {
      const kinds = await twoKinds();
      const { cluster, d2, w2, directory, workerOf } = kinds;
      await cluster.crash(w2);
      await cluster.crash(d2);
      await until("d2 is declared dead", () => directory.get(cluster.id("d2"))?.status === "dead", 30_000);
      await cluster.startDistributor("d2");
      // Back and holding its lease, without a live worker: w2 not listed, or listed dead (a
      // distributor process finds its workers' attempts in the store, not what they ran).
      await until(
        "d2 is back without a live worker",
        () =>
          directory.get(cluster.id("d2"))?.status !== "dead" &&
          directory.get(cluster.id("d2"))?.ownsLease === true &&
          (workerOf("d2", "w2") ?? { status: "dead" }).status === "dead",
        30_000,
      );
      const ids = await submitBoth(cluster, "back-d2");
      await waitThenRun(kinds, ids, false);
    }, 120_000);
  },
);
