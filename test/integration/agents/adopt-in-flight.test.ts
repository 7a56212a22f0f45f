import { describe, expect, it } from "vitest";
import type { WorkerHeartbeat } from "../../../src/agents/protocol.js";
import type { DistributorAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { pendingTask } from "../../helpers/task-dict.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor adopts a task from its record (after a restart, a take-back, a stale result):
 * queued once, whatever it read. A stale result's record is read while the task waits in the
 * queue (pending); if the pump dispatches it before that read answers, adopting the answer
 * queued it a second time, beside the attempt now running, and a second attempt of it was
 * dispatched while the first ran (its handler ran twice, the first result refused by its fence).
 */

/** A heartbeat of a worker that runs nothing, with `extra` over it. */
const heartbeat = (extra: Partial<WorkerHeartbeat> = {}): WorkerHeartbeat => ({
  kind: "worker_status",
  status: "idle",
  load: 0,
  capacity: 1,
  url: null,
  running: [],
  done: 0,
  task_types: [],
  ...extra,
});

describe.each(testEngines("adopt-in-flight"))("adopting a task on $name", (engine) => {
  const newCluster = clusterPerTest(engine);

  it("does not queue again a task dispatched while its record was read", async () => {
    const cluster = newCluster({ timing: { ...FAST, heartbeatTimeoutMs: 20_000 } });
    await cluster.startCoordinator();
    const d1: DistributorAgent = await cluster.startDistributor("d1");
    await until("d1 owns its lease", () => d1.core.lease.owns, 5000);
    const dispatched: string[] = [];
    const dispatchMany = d1.ledger.dispatchMany.bind(d1.ledger);
    d1.ledger.dispatchMany = (plan, distributor, taskIdOf, workerIdOf) => {
      for (const p of plan) dispatched.push(`${taskIdOf(p)}>${workerIdOf(p)}`);
      return dispatchMany(plan, distributor, taskIdOf, workerIdOf);
    };
    const t = cluster.id("t");
    const [w1, w2, w3] = ["w1", "w2", "w3"].map((n) => cluster.id(n)) as [string, string, string];
    const placed = await cluster.coordinator.ledger.submit(
      {
        taskId: t,
        taskType: "echo",
        payload: {},
        createdAt: new Date().toISOString(),
        maxRetries: 0,
        backoffMs: 0,
      },
      d1.agentId,
    );
    expect(placed).toBe(true);

    // Attempt 1 on w1 (a worker entry, no process: nothing runs it).
    d1.core.onWorkerRegister(w1, null, 1);
    d1.core.onAssign([pendingTask(t)]);
    await until("attempt 1 is out on w1", () => (d1.core.registry.get(w1)?.inFlight.get(t)?.fence ?? 0) > 0);
    const fence1 = d1.core.registry.get(w1)!.inFlight.get(t)!.fence;
    // w1 hands it back unrun and stops: the task waits in the queue, pending, no room anywhere.
    d1.core.onWorkerHeartbeat(w1, heartbeat({ returned: [{ task_id: t, fence: fence1 }], stopping: true }));
    await until("the task is queued again", () => d1.core.queue.has(t));

    // A late result of attempt 1 (fenced off: stale). The record it makes d1 read is read now,
    // pending, and its answer held back until the task has been dispatched again.
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let refused = false;
    const commitAttempts = d1.ledger.commitAttempts.bind(d1.ledger);
    d1.ledger.commitAttempts = async (outcomes) => {
      const receipts = await commitAttempts(outcomes);
      refused = receipts.some((r) => r.verdict === "stale");
      return receipts;
    };
    let reads = 0;
    const get = d1.ledger.get.bind(d1.ledger);
    d1.ledger.get = (taskId) => {
      const record = get(taskId);
      if (taskId !== t || !refused) return record;
      reads++;
      return held.then(() => record);
    };
    // Resolves once the stale result's record has been read and adopted (ResultCommits.commit).
    const adopted = d1.core.onResults(w1, [
      { task_id: t, fence: fence1, status: "completed", result: { late: true } },
    ]);
    await until("the stale result's record is being read", () => reads === 1);
    d1.ledger.get = get;
    d1.ledger.commitAttempts = commitAttempts;

    d1.core.onWorkerRegister(w2, null, 1);
    await until("attempt 2 is out on w2", () => (d1.core.registry.get(w2)?.inFlight.get(t)?.fence ?? 0) > 0);
    release();
    await adopted; // the read answers and is adopted

    expect(d1.core.queue.has(t)).toBe(false); // running on w2: not waiting for a worker too
    // Room for a second attempt, were it queued: a pump pass has had it once another task,
    // queued behind it, went out (to w3, the only room).
    const t2 = cluster.id("t2");
    await cluster.coordinator.ledger.submit(
      {
        taskId: t2,
        taskType: "echo",
        payload: {},
        createdAt: new Date().toISOString(),
        maxRetries: 0,
        backoffMs: 0,
      },
      d1.agentId,
    );
    d1.core.onWorkerRegister(w3, null, 1);
    d1.core.onAssign([pendingTask(t2)]);
    await until("a task is out on w3", () => dispatched.some((d) => d.endsWith(`>${w3}`)), 10_000);
    expect(dispatched.filter((d) => d.startsWith(`${t}>`))).toEqual([`${t}>${w1}`, `${t}>${w2}`]);
    expect(dispatched).toContain(`${t2}>${w3}`);
    expect(d1.core.registry.get(w2)!.inFlight.get(t)?.fence).toBeGreaterThan(fence1);
  });
});
