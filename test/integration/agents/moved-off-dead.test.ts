import { describe, expect, it } from "vitest";
import type { DistributorAgent } from "../../../src/index.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A dead distributor's tasks, moved to another (CoordinatorCore.moveOff, then a placement pass):
 * what the new holder is sent agrees with the store. A task whose attempt the move ended arrives
 * pending (the assign script says it ended one), queued with no read of its record; a retry in
 * its backoff is placed once the backoff is over (the assignment carries none: its new holder
 * would run it at once).
 */

const newTask = (taskId: string, maxRetries = 0, backoffMs = 0) => ({
  taskId,
  taskType: "echo",
  payload: {},
  createdAt: new Date().toISOString(),
  maxRetries,
  backoffMs,
});

/** The fence of the attempt of `taskId` dispatched on `d`'s worker `w` (0 while none). */
const fenceOn = (d: DistributorAgent, w: string, taskId: string) =>
  d.core.registry.get(w)?.inFlight.get(taskId)?.fence ?? 0;

/** Until the coordinator has heard `d` healthy, with room (until then it places nothing there). */
async function heard(cluster: TestCluster, d: DistributorAgent): Promise<void> {
  const dir = cluster.coordinator.core.directory;
  await until(
    "the coordinator hears d2 healthy",
    () => dir.healthy().some((e) => e.id === d.agentId) && (dir.get(d.agentId)?.capacity ?? 0) > 0,
    10_000,
  );
}

describe.each(testEngines("moved-off-dead"))("tasks moved off a dead distributor on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  it("queues a task whose attempt was lost with its distributor without reading its record", async () => {
    const cluster = newCluster({ timing: { ...FAST, heartbeatTimeoutMs: 20_000 } });
    await cluster.startCoordinator();
    const d2 = await cluster.startDistributor("d2");
    await until("d2 owns its lease", () => d2.core.lease.owns, 5000);
    const ledger = cluster.coordinator.ledger;
    const [t, d1, w1, w2] = ["t", "d1", "w1", "w2"].map((n) => cluster.id(n)) as [
      string,
      string,
      string,
      string,
    ];
    expect(await ledger.submit(newTask(t), d1)).toBe(true);
    expect(await ledger.dispatch(t, d1, w1)).toBe(1); // attempt 1 in progress on d1, which dies
    let reads = 0;
    const get = d2.ledger.get.bind(d2.ledger);
    d2.ledger.get = (taskId) => {
      if (taskId === t) reads++;
      return get(taskId);
    };
    d2.core.onWorkerRegister(w2, null, 1); // a worker entry, no process: nothing runs it
    await heard(cluster, d2);

    await cluster.coordinator.core.moveOff(d1, true);
    await until("attempt 2 is out on d2's worker", () => fenceOn(d2, w2, t) > 0, 10_000);
    expect(reads).toBe(0); // queued as it came (pending), not adopted from its record
    // Attempt 1 fenced off by the move (fence 2), attempt 2 under fence 3.
    expect(fenceOn(d2, w2, t)).toBe(3);
    const record = await ledger.get(t);
    expect([record?.distributor, record?.task.attempts]).toEqual([d2.agentId, 2]);
  });

  it("does not send a task canceled while it waited to be placed (the store's end wins over the copy held)", async () => {
    const cluster = newCluster({ timing: { ...FAST, heartbeatTimeoutMs: 20_000 } });
    await cluster.startCoordinator();
    const ledger = cluster.coordinator.ledger;
    const [gone, kept, d1] = ["gone", "kept", "d1"].map((n) => cluster.id(n)) as [string, string, string];
    for (const id of [gone, kept]) expect(await ledger.submit(newTask(id), d1)).toBe(true);
    expect(await ledger.dispatch(gone, d1, "w1")).toBe(1);
    // Taken off d1 with no distributor to take them: held unplaced, as read; then one is canceled.
    await cluster.coordinator.core.moveOff(d1, true);
    expect(cluster.coordinator.core.unplacedCount).toBe(2);
    expect(await cluster.coordinator.cancelTask(gone)).toBe(true);
    const arrived: string[] = [];
    const d2 = await cluster.startDistributor("d2", (d) => {
      const onAssign = d.core.onAssign.bind(d.core);
      d.core.onAssign = (tasks, from) => {
        for (const t of tasks) arrived.push(t.task_id);
        onAssign(tasks, from);
      };
    });
    d2.core.onWorkerRegister(cluster.id("w2"), null, 2);
    await heard(cluster, d2);
    await until("the open task reaches d2", () => arrived.includes(kept), 10_000);
    expect(arrived).toEqual([kept]);
    expect((await ledger.get(gone))?.task.status).toBe("abandoned");
  });

  it("places a retry in its backoff once the backoff is over, not at once", async () => {
    const cluster = newCluster({ timing: { ...FAST, heartbeatTimeoutMs: 20_000 } });
    await cluster.startCoordinator();
    const d2 = await cluster.startDistributor("d2");
    await until("d2 owns its lease", () => d2.core.lease.owns, 5000);
    const ledger = cluster.coordinator.ledger;
    const [retry, plain, d1, w1, w2] = ["retry", "plain", "d1", "w1", "w2"].map((n) => cluster.id(n)) as [
      string,
      string,
      string,
      string,
      string,
    ];
    // Attempt 1 of `retry` failed on d1: pending again, its next attempt not before 2 s from now.
    expect(await ledger.submit(newTask(retry, 2, 2000), d1)).toBe(true);
    expect(await ledger.dispatch(retry, d1, w1)).toBe(1);
    expect(await ledger.commit({ taskId: retry, fence: 1, status: "failed", error: "boom" })).toBe("retry");
    const notBefore = (await ledger.get(retry))?.notBefore ?? 0;
    expect(notBefore).toBeGreaterThan(Date.now());
    expect(await ledger.submit(newTask(plain), d1)).toBe(true);
    d2.core.onWorkerRegister(w2, null, 2);
    await heard(cluster, d2);

    await cluster.coordinator.core.moveOff(d1, true);
    await until("the task with no backoff is out on d2's worker", () => fenceOn(d2, w2, plain) > 0, 10_000);
    // Placed in the same pass, were it placed now: it is not, it waits unplaced.
    expect([d2.core.queue.has(retry), fenceOn(d2, w2, retry)]).toEqual([false, 0]);
    expect(cluster.coordinator.core.unplacedCount).toBe(1);
    // Once its backoff is over it is placed, and runs no earlier than its backoff allowed.
    await until("the retry is out on d2's worker", () => fenceOn(d2, w2, retry) > 0, 20_000);
    const record = await ledger.get(retry);
    expect(record?.distributor).toBe(d2.agentId);
    expect(Date.parse(record?.task.started_at ?? "")).toBeGreaterThanOrEqual(notBefore);
  });
});
