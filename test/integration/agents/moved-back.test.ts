import { afterEach, describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";

/**
 * Found by the chaos suite (a faulty network: a distributor declared dead while it was only
 * unheard, then found healthy again): the coordinator moved the distributor's tasks — back onto
 * the same distributor. Each move fenced off the attempt in flight and put the task back to
 * pending, but the distributor, still holding the task in memory as in flight, ignored the
 * assignment; when the fenced attempt's result was refused, it forgot the task without running
 * it again. Redis said "pending, yours"; nobody ever dispatched it. A refused result now makes
 * the distributor read the record and act as it says.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a task moved back onto the distributor that holds it", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("is dispatched again once its fenced attempt's result is refused", async () => {
    cluster = new TestCluster({ url: `memory://moved-back-${process.pid}`, keyPrefix: uniquePrefix("mb") });
    const c = await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();
    const id = cluster.id("t1");
    await c.submitTask({ task_id: id, task_type: "sleep", payload: { ms: 300 } });
    const ledger = c.ledger as TaskLedger;
    while ((await ledger.get(id))?.task.status !== "in_progress") await sleep(10);

    // What the coordinator does when it moves the tasks of a distributor it thought dead, and
    // the least-loaded healthy one is that same distributor again.
    expect(await ledger.assign(id, d1.agentId)).toBe(true);
    expect((await ledger.get(id))?.task.status).toBe("pending");

    const done = await c.waitForTask(id, 5_000);
    expect(done).toMatchObject({ status: "completed" });
    expect(d1.core.stats.staleRejected).toBe(1);
  });
});
