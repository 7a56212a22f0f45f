import { describe, expect, it } from "vitest";
import type { Task, TaskHandler, TaskLedger } from "../../../src/index.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";

/**
 * A worker that reported an outcome and then died, while the distributor was still committing
 * it (a slow store): the outcome is in hand, so the attempt is not taken back when the worker
 * is declared dead — that would fence the outcome off and run the task a second time. Should
 * the commit fail, the attempt is taken back then.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe.each(testEngines("reported-then-died"))(
  "an outcome being committed when its worker dies, on $name",
  (engine) => {
    const newCluster = clusterPerTest(engine);
    let cluster: TestCluster | undefined;

    const start = async (runs: string[]) => {
      const count: TaskHandler<Task> = (task) => {
        runs.push(task.taskId);
        return { ran: runs.length };
      };
      cluster = newCluster({ handlers: { count } });
      await cluster.startCoordinator();
      const d1 = await cluster.startDistributor("d1");
      const w1 = await cluster.startWorker("w1", "d1");
      await cluster.ready();
      // Commits wait at a gate: the store is slow.
      const ledger = d1.ledger as TaskLedger;
      const commit = ledger.commitAttempts.bind(ledger);
      let held = 0;
      let fail = false;
      let release!: () => void;
      const gate = new Promise<void>((r) => {
        release = r;
      });
      ledger.commitAttempts = async (...args) => {
        held++;
        await gate;
        if (fail) throw new Error("store timeout (test)");
        return commit(...args);
      };
      const open = (failing: boolean) => {
        fail = failing;
        release();
      };
      const restore = () => {
        ledger.commitAttempts = commit;
      };
      /** Submits a task and, once its outcome waits at the gate, kills w1 and waits until it is declared dead. */
      const reportThenDie = async (name: string) => {
        const id = cluster!.id(name);
        await cluster!.coordinator.submitTask({ task_id: id, task_type: "count", payload: {} });
        while (held === 0) await sleep(10);
        await cluster!.crash(w1);
        const entry = d1.core.registry.get(w1.agentId)!;
        while (entry.status !== "dead") await sleep(10);
        return { id, entry };
      };
      return { reportThenDie, open, restore };
    };

    it("is committed as reported, and the task does not run again", async () => {
      const runs: string[] = [];
      const { reportThenDie, open, restore } = await start(runs);
      const { id, entry } = await reportThenDie("t1");
      await sleep(300); // monitor ticks have run since
      await cluster!.startWorker("w2", "d1");
      restore();
      open(false);
      const done = await cluster!.coordinator.waitForTask(id, 5_000);
      expect(done).toMatchObject({ status: "completed", result: { ran: 1 }, attempts: 1 });
      await sleep(300);
      expect(runs).toEqual([id]);
      expect(entry.inFlight.size).toBe(0);
    });

    it("is taken back once its commit fails, and runs on another worker", async () => {
      const runs: string[] = [];
      const { reportThenDie, open, restore } = await start(runs);
      const { id } = await reportThenDie("t2");
      await cluster!.startWorker("w2", "d1");
      restore();
      open(true);
      const done = await cluster!.coordinator.waitForTask(id, 5_000);
      expect(done).toMatchObject({ status: "completed", result: { ran: 2 }, attempts: 2 });
      expect(runs).toEqual([id, id]);
    });
  },
);
