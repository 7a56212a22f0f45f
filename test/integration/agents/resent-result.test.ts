import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A worker re-sends an outcome the distributor has not acknowledged within a heartbeat interval;
 * a large result (hundreds of KB) can take longer than that to be committed and acknowledged.
 * The resend of an outcome committed already is a duplicate: acknowledged again, quietly — not
 * refused as a stale result, not counted a second time, not reported to a coordinator again (a
 * second report went to the distributor's own coordinator, which counted it too when another had
 * placed the task: several coordinators counted 62-68 ends of 60 under load). A resend of an
 * outcome whose commit lost its reply (the store's timeout) while the task is still held is how
 * the distributor learns the commit was made: the end is taken and reported then (before, the task
 * stayed held until a reconcile dropped it, and no coordinator heard of its end).
 */
describe.each(testEngines("resent-result"))("a resent result on $name", (engine) => {
  const cluster = clusterPerTest(engine);

  it("is acknowledged as a duplicate of the committed one, not refused as stale", async () => {
    const big = "x".repeat(400_000);
    const c = cluster({
      timing: FAST,
      handlers: {
        work: async () => ({ big }),
      },
    });
    const d1 = await c.startOne();
    const coordinator = c.coordinator;
    const id = c.id("large");
    await coordinator.submitTask({ task_id: id, task_type: "work", payload: {} });
    const done = await coordinator.waitForTask(id, 20_000);
    expect(done?.error ?? null).toBeNull();
    expect(done).toMatchObject({ status: "completed" });
    const fence = (await d1.ledger.get(id))!.fence;
    expect(fence).toBeGreaterThan(0);
    const before = { ...d1.core.stats };
    const acks = await d1.core.onResults(c.id("w1"), [
      { task_id: id, fence, status: "completed", result: { big } },
    ]);
    expect(acks).toEqual([{ task_id: id, fence }]);
    expect(d1.core.stats.staleRejected).toBe(before.staleRejected);
    expect(d1.core.stats.completed).toBe(before.completed);
    // An older attempt's outcome is still refused as stale.
    await d1.core.onResults(c.id("w1"), [{ task_id: id, fence: fence - 1, status: "completed", result: 1 }]);
    expect(d1.core.stats.staleRejected).toBe(before.staleRejected + 1);
  }, 60_000);

  it("reports an end once: a resend of an outcome this process committed and reported is not reported again", async () => {
    const c = cluster({ timing: FAST, handlers: { work: async (task) => task.payload } });
    const coordinator = await c.startCoordinator();
    const d1 = await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    await c.ready();
    const reports = new Map<string, number>();
    const onTerminal = coordinator.core.onTerminal.bind(coordinator.core);
    coordinator.core.onTerminal = (from, tasks, spawns) => {
      for (const t of tasks) reports.set(t.task_id, (reports.get(t.task_id) ?? 0) + 1);
      onTerminal(from, tasks, spawns);
    };
    const id = c.id("once");
    await coordinator.submitTask({ task_id: id, task_type: "work", payload: { n: 1 } });
    expect(await coordinator.waitForTask(id, 20_000)).toMatchObject({ status: "completed" });
    await until("its end is reported", () => reports.get(id) === 1, 20_000);
    const fence = (await d1.ledger.get(id))!.fence;
    const acks = await d1.core.onResults(c.id("w1"), [
      { task_id: id, fence, status: "completed", result: { n: 1 } },
    ]);
    expect(acks).toEqual([{ task_id: id, fence }]);
    // Reports from d1 to its coordinator go in order: once a later task's end is in, a second
    // report of the first would have come before it.
    const later = c.id("later");
    await coordinator.submitTask({ task_id: later, task_type: "work", payload: { n: 2 } });
    await until("the later task's end is reported", () => reports.get(later) === 1, 20_000);
    expect(reports.get(id)).toBe(1);
    expect(coordinator.core.stats.completed).toBe(2);
  }, 60_000);

  it("takes a held task's end when the resend finds the commit whose reply was lost", async () => {
    const c = cluster({ timing: FAST, handlers: { work: async (task) => task.payload } });
    const coordinator = await c.startCoordinator();
    const d1 = await c.startDistributor("d1");
    await c.startWorker("w1", "d1");
    await c.ready();
    const id = c.id("lost-reply");
    // The first commit of the task runs in the store; its reply is lost (as the store's timeout).
    let lost = false;
    const commitAttempts = d1.ledger.commitAttempts.bind(d1.ledger);
    d1.ledger.commitAttempts = async (outcomes) => {
      const receipts = await commitAttempts(outcomes);
      if (!lost && outcomes.some((o) => o.taskId === id)) {
        lost = true;
        throw new Error("reply lost (test)");
      }
      return receipts;
    };
    await coordinator.submitTask({ task_id: id, task_type: "work", payload: { n: 1 } });
    await until("the commit whose reply is lost ran", () => lost, 20_000);
    // The worker sends the outcome again (not acknowledged); the commit finds it committed.
    await until("the coordinator heard of its end", () => coordinator.core.stats.completed === 1, 20_000);
    expect(d1.core.heldTask(id)).toBeUndefined();
    expect(d1.core.stats.completed).toBe(1);
    expect(await coordinator.waitForTask(id, 1_000)).toMatchObject({ status: "completed", result: { n: 1 } });
  }, 60_000);
});
