import { afterEach, describe, expect, it } from "vitest";
import type { TaskActivity } from "../../../src/agents/observe/coordinator-observer.js";
import type { A2AMessage } from "../../../src/index.js";
import { LiveFeed } from "../../../src/server/dashboard/live-feed.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * A task's retries reach the coordinator only with its distributor's report of the end
 * (task_terminal). When the coordinator reads the end from the ledger first (a waiter's catch-up,
 * as under load when the report is late), the end is shown without them; the report, when it
 * comes, still tells them: the task's history gets its "retried" steps, and the dashboard's
 * Retries list the task. (It did not: dashboard-edges waited in vain for the task in Retries.)
 */

describe("retries told after the end was shown", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("a report that comes after the end was read from the ledger adds the retries to the history and the Retries list", async () => {
    cluster = new TestCluster(
      { url: `memory://late-retries-${process.pid}` },
      {
        handlers: {
          boom: () => {
            throw new Error("failed on purpose");
          },
        },
      },
    );
    // The distributor's task_terminal messages are held back until the test lets them go.
    const held: Array<() => void> = [];
    const deliver = cluster.router.deliver.bind(cluster.router);
    cluster.router.deliver = (m: A2AMessage, ...rest) => {
      if (m.payload.event_type === "task_terminal") {
        held.push(() => void deliver(m, ...rest));
        return { accepted: false as const, reason: "busy" as const, detail: "held by the test" };
      }
      return deliver(m, ...rest);
    };
    const c = await cluster.startCoordinator();
    const activity: TaskActivity[] = [];
    c.observer.on((a) => activity.push(a));
    const feed = new LiveFeed(c);
    try {
      await cluster.startDistributor("d1");
      await cluster.startWorker("w1", "d1");
      await cluster.ready();

      const id = cluster.id("boom-1");
      await c.submitTask({ task_id: id, task_type: "boom", payload: {} });
      // The waiter's catch-up reads the end from the ledger: no report has come.
      expect(await c.waitForTask(id, 20_000)).toMatchObject({ status: "failed", attempts: 3 });
      await until("the end is shown", () => activity.some((a) => a.type === "terminal"));
      expect(activity.find((a) => a.type === "terminal")).toMatchObject({ retries: [] });
      expect(held.length).toBeGreaterThan(0);

      for (const release of held.splice(0)) release();
      await until("the retries are told", () => activity.some((a) => a.type === "retried"));
      const told = activity.find((a) => a.type === "retried") as Extract<TaskActivity, { type: "retried" }>;
      expect(told.task).toMatchObject({ task_id: id, status: "failed", attempts: 3 });
      expect(told.retries.map((r) => [r.attempt, r.error])).toEqual([
        [1, "failed on purpose"],
        [2, "failed on purpose"],
      ]);
      const steps = c.observer.history.get(id).map((e) => e.event);
      expect(steps.filter((e) => e === "retried")).toHaveLength(2);
      const lists = feed.snapshot() as { retries: Array<{ task_id: string; attempts: number }> };
      expect(lists.retries).toMatchObject([{ task_id: id, attempts: 3 }]);
      // Told once: the same report again (a resend) adds nothing.
      expect(activity.filter((a) => a.type === "retried")).toHaveLength(1);
    } finally {
      feed.close();
    }
  });
});
