import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { heldUntilOpen } from "../../helpers/held-until-open.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor restarted with the same id adopts the tasks recorded on it in its first reconcile.
 * An assignment of one of them that is running already (its dict says in_progress), handled while
 * that reconcile's read is out, was queued as a new task: the reconcile then left it alone (held
 * already), the pump dispatched it a second time, and the attempt still running on its worker was
 * refused. It is adopted from its record instead, in flight on its worker under its fence.
 */

/** A promise that waits until `open` is called. */
const gate = () => {
  let open!: () => void;
  const closed = new Promise<void>((r) => {
    open = r;
  });
  return { closed, open };
};

describe.each(testEngines("assign-running"))("a running task assigned again on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  it("is adopted on its worker while the restarted distributor's reconcile reads, not run twice", async () => {
    const {
      c: cluster,
      runs,
      open,
    } = heldUntilOpen(newCluster, {
      // Nobody is declared dead here: the adopted attempt waits for w1 to confirm it, however slow.
      timing: { ...FAST, heartbeatTimeoutMs: 20_000 },
    });
    const first = await cluster.startOne();
    const [id, w1] = [cluster.id("running"), cluster.id("w1")];
    await cluster.coordinator.submitTask({ task_id: id, task_type: "held", payload: {} });
    await until("the task runs on w1", () => runs.get(id) === 1);
    const fence = first.core.registry.get(w1)?.inFlight.get(id)?.fence ?? 0;
    expect(fence).toBeGreaterThan(0);
    await cluster.crash(first);

    // The restarted d1's reconcile reads which tasks are its own; the answer waits for the gate.
    const reads = gate();
    let reading = false;
    const second = await cluster.startDistributor("d1", (d) => {
      const read = d.ledger.distributorTaskIds.bind(d.ledger);
      d.ledger.distributorTaskIds = async (who) => {
        reading = true;
        await reads.closed;
        return read(who);
      };
    });
    await until("the restarted d1's first reconcile reads", () => reading && second.core.lease.owns);

    // The task's assignment comes meanwhile, its dict as recorded: in progress on w1.
    const record = await cluster.coordinator.ledger.get(id);
    expect(record?.task.status).toBe("in_progress");
    second.core.onAssign([record!.task], cluster.coordinator.agentId);
    // w1 heard from (room for a second attempt, were it queued) and the task in flight on it.
    const onW1 = () => second.core.registry.get(w1)?.inFlight.get(id)?.fence ?? -1;
    await until(
      "w1 is heard from and the task is in flight on it",
      () => second.core.registry.get(w1)?.lastHeartbeatAt !== undefined && onW1() > 0,
    );
    expect(onW1()).toBe(fence);
    expect(second.core.queue.has(id)).toBe(false);

    reads.open();
    open();
    const task = await cluster.coordinator.waitForTask(id, 10_000);
    expect(task?.status).toBe("completed");
    expect(task?.attempts).toBe(1);
    expect([...runs]).toEqual([[id, 1]]);
    expect(second.core.stats.dispatched).toBe(0);
    expect(second.core.stats.staleRejected).toBe(0);
  });
});
