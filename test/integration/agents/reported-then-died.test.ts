import { describe, expect, it } from "vitest";
import type { Task, TaskHandler, TaskLedger } from "../../../src/index.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * A worker that reported an outcome and then died, while the distributor was still committing
 * it (a slow store): the outcome is in hand, so the attempt is not taken back when the worker
 * is declared dead — that would fence the outcome off and run the task a second time. Should
 * the commit fail, the attempt is taken back then.
 */

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
      const d1 = await cluster.startOne();
      const w1 = cluster.workers.get("w1")!;
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
      // Monitor ticks, counted as each ends: the ticks that could take the attempt back.
      let ticks = 0;
      const monitor = d1.core.monitorWorkers.bind(d1.core);
      d1.core.monitorWorkers = async () => {
        await monitor();
        ticks++;
      };
      /** Resolves once `n` more monitor ticks have run to their end. */
      const monitorTicks = async (n: number) => {
        const target = ticks + n;
        await until(`${n} more monitor ticks have run`, () => ticks >= target, 10_000, 10);
      };
      /** Submits a task and, once its outcome waits at the gate, kills w1 and waits until it is declared dead. */
      const reportThenDie = async (name: string) => {
        const id = cluster!.id(name);
        await cluster!.coordinator.submitTask({ task_id: id, task_type: "count", payload: {} });
        await until("its outcome waits at the gate", () => held > 0, 10_000, 10);
        await cluster!.crash(w1);
        const entry = d1.core.registry.get(w1.agentId)!;
        await until("w1 is declared dead", () => entry.status === "dead", 10_000, 10);
        return { id, entry };
      };
      return { reportThenDie, open, restore, monitorTicks };
    };

    it("is committed as reported, and the task does not run again", async () => {
      const runs: string[] = [];
      const { reportThenDie, open, restore, monitorTicks } = await start(runs);
      const { id, entry } = await reportThenDie("t1");
      await monitorTicks(3); // monitor ticks have run since, and left the attempt where it was
      await cluster!.startWorker("w2", "d1");
      restore();
      open(false);
      const done = await cluster!.coordinator.waitForTask(id, 5_000);
      expect(done).toMatchObject({ status: "completed", result: { ran: 1 }, attempts: 1 });
      // A negative check: the task is not run again in the next 300 ms (a fixed wait, as
      // nothing is to happen in it), and the monitor ticks in it take nothing back.
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
