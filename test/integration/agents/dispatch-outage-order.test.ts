import { describe, expect, it } from "vitest";
import type { DistributorAgent } from "../../../src/index.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { pendingTask } from "../../helpers/task-dict.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * A dispatch the store does not answer (Redis unreachable) puts its tasks back where they were:
 * at the front of their priority lanes, in their order, so a store outage does not reorder the
 * queue (first in first out within a priority, docs/DESIGN.md "Priorities"). They went to the
 * back, behind every task queued after them. And the pump's passes run one at a time: a pass
 * started while another awaits the store would take the tasks behind it, and its own failure
 * would then put those in front of the first pass's.
 */

type Call = { ids: string[]; settle: (fail: boolean) => void };

describe.each(testEngines("dispatch-outage-order"))("a dispatch that fails on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  /**
   * A coordinator and distributor d1 with one worker entry of `capacity` (room: twice that) and
   * no worker process; its dispatch script calls are held until settled (`fail`: as if Redis
   * were unreachable) or, once `down`, fail at once. Each call is recorded with its tasks.
   */
  const start = async (capacity: number) => {
    const cluster = newCluster({ timing: { ...FAST, heartbeatTimeoutMs: 20_000 } });
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await until("d1 owns its lease", () => d1.core.lease.owns, 5000);
    d1.core.onWorkerRegister(cluster.id("w"), null, capacity);
    const calls: Call[] = [];
    const state = { down: false };
    d1.ledger.dispatchMany = (plan, _distributor, taskIdOf) =>
      new Promise((resolve, reject) => {
        const call: Call = {
          ids: plan.map(taskIdOf),
          settle: (fail) => (fail ? reject(new Error("store unreachable")) : resolve([])),
        };
        calls.push(call);
        if (state.down) call.settle(true);
      });
    return { cluster, d1, calls, state };
  };

  /** Tasks recorded on d1 (as a coordinator places them) and assigned to it, in this order. */
  const assign = async (cluster: TestCluster, d1: DistributorAgent, ids: string[]) => {
    for (const id of ids) {
      const placed = await cluster.coordinator.ledger.submit(
        {
          taskId: id,
          taskType: "echo",
          payload: {},
          createdAt: new Date().toISOString(),
          maxRetries: 0,
          backoffMs: 0,
        },
        d1.agentId,
      );
      expect(placed).toBe(true);
    }
    d1.core.onAssign(ids.map((id) => pendingTask(id)));
  };

  it("puts its tasks back at the front of the queue, in their order", async () => {
    const { cluster, d1, calls, state } = await start(1);
    const ids = Array.from({ length: 6 }, (_, i) => cluster.id(`t${i}`));
    await assign(cluster, d1, ids);
    await until("the first dispatch is out", () => calls.length === 1);
    expect(calls[0]!.ids).toEqual(ids.slice(0, 2));
    state.down = true;
    calls[0]!.settle(true);
    await until("a dispatch is tried again", () => calls.length >= 2);
    // The same two first (they went behind the other four, and those were dispatched first).
    expect(calls[1]!.ids).toEqual(ids.slice(0, 2));
  });

  it("keeps the queue's order when a pass is asked for while another awaits the store", async () => {
    const { cluster, d1, calls, state } = await start(2);
    const first = [cluster.id("t0"), cluster.id("t1")];
    const then = [cluster.id("t2"), cluster.id("t3")];
    await assign(cluster, d1, first);
    await until("the first pass's dispatch is out", () => calls.length === 1);
    await assign(cluster, d1, then); // a second pass is asked for: room for two more
    // A negative check: its paced turn comes (a linger of 1 ms) and must not start a pass while
    // the first is out, so a fixed wait (nothing is to happen in it).
    await sleep(50);
    state.down = true;
    for (const call of [...calls]) call.settle(true);
    const settled = calls.length;
    await until("a dispatch is tried again", () => calls.length > settled);
    // Passes one at a time: the second ran after the first failed, and took all four in order.
    // Overlapping, it took t2 and t3 while the first was out, and its failure put them in front.
    expect(calls.slice(0, 2).map((c) => c.ids)).toEqual([first, [...first, ...then]]);
  });

  it("dispatches again after a bound when a pass's dispatch is never answered, not with its tasks", async () => {
    const { cluster, d1, calls } = await start(1);
    const first = [cluster.id("t0"), cluster.id("t1")];
    const then = [cluster.id("t2"), cluster.id("t3")];
    await assign(cluster, d1, first);
    await until("the first pass's dispatch is out", () => calls.length === 1);
    // It is never answered (a store that does not answer). Room for two more, and two more tasks:
    d1.core.onWorkerRegister(cluster.id("w2"), null, 1);
    await assign(cluster, d1, then);
    // Passes one at a time, but a pass that does not end holds up the next only for a bound.
    await until("a second dispatch is out", () => calls.length === 2);
    expect(calls[1]!.ids).toEqual(then); // not the first pass's tasks, still out
    calls[0]!.settle(true);
    await until("the first pass's tasks are dispatched again", () => calls.length === 3);
    expect(calls[2]!.ids).toEqual(first);
  });
});
