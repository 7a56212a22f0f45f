import { describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor's reconcile reads from the ledger which tasks are its own, and drops from memory
 * those the read does not list (moved away). A task recorded on it after Redis answered that
 * read, whose assignment is handled before the reply is (seen under load between processes),
 * is not in the reply: it must not be dropped. Dropped, its attempt's outcome was refused as
 * stale and the task waited for the next reconcile (5 s by default) to run a second time.
 */

describe.each(testEngines("reconcile-race"))("a task assigned while reconcile reads, on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  /** A coordinator, distributor d1 and worker w1, ready. */
  const start = async () => {
    const cluster = newCluster();
    const d1 = await cluster.startOne();
    return { cluster, d1 };
  };

  /** A promise that waits until `open` is called. */
  const gate = () => {
    let open!: () => void;
    const closed = new Promise<void>((r) => {
      open = r;
    });
    return { closed, open };
  };

  it("is kept, runs once and ends without waiting for the next reconcile", async () => {
    const { cluster, d1 } = await start();

    // The read is answered by Redis now, and its reply handled only once the gate opens.
    const ledger = d1.ledger as TaskLedger;
    const read = ledger.distributorTaskIds.bind(ledger);
    let answered = false;
    const reply = gate();
    ledger.distributorTaskIds = async (id) => {
      const ids = await read(id);
      answered = true;
      await reply.closed;
      return ids;
    };
    const reconciling = d1.core.reconcile();
    await until("reconcile's read is answered", () => answered, 5_000, 5);

    const id = cluster.id("late");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 300 } });
    const dispatched = () => d1.core.registry.all().some((w) => (w.inFlight.get(id)?.fence ?? -1) > 0);
    await until("the late task is dispatched", dispatched, 5_000, 5);

    reply.open();
    await reconciling;
    ledger.distributorTaskIds = read;
    expect(d1.core.heldTask(id)).toBeDefined();
    expect(dispatched()).toBe(true);

    const task = await cluster.coordinator.waitForTask(id, 5_000);
    expect(task?.status).toBe("completed");
    expect(task?.attempts).toBe(1);
    expect(d1.core.stats.staleRejected).toBe(0);
  });

  it("is not adopted a second time when its assignment comes while its record is read", async () => {
    const { cluster, d1 } = await start();
    const id = cluster.id("crossing");

    // The assignment is held back: Redis says the task is d1's, d1's memory does not know it yet.
    const onAssign = d1.core.onAssign.bind(d1.core);
    let held: Parameters<typeof onAssign> | undefined;
    d1.core.onAssign = (tasks, from) => {
      if (tasks.some((t) => t.task_id === id)) held = [tasks, from];
      else onAssign(tasks, from);
    };
    await cluster.coordinator.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 300 } });
    await until("its assignment is held back", () => held !== undefined, 5_000, 5);

    // Reconcile finds it in Redis and reads its record; the assignment is handled meanwhile.
    const ledger = d1.ledger as TaskLedger;
    const get = ledger.get.bind(ledger);
    let reading = false;
    const reply = gate();
    ledger.get = async (taskId) => {
      const record = await get(taskId);
      if (taskId !== id) return record;
      reading = true;
      await reply.closed;
      return record;
    };
    const reconciling = d1.core.reconcile();
    await until("reconcile reads its record", () => reading, 5_000, 5);
    onAssign(...held!);
    const dispatched = () => d1.core.registry.all().some((w) => (w.inFlight.get(id)?.fence ?? -1) > 0);
    await until("the task is dispatched", dispatched, 5_000, 5);
    reply.open();
    await reconciling;
    ledger.get = get;
    d1.core.onAssign = onAssign;

    const task = await cluster.coordinator.waitForTask(id, 5_000);
    expect(task?.status).toBe("completed");
    expect(task?.attempts).toBe(1);
    expect(d1.core.stats.staleRejected).toBe(0);
    expect(d1.core.stats.dispatched).toBe(1);
  });
});
