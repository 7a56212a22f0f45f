import { afterEach, describe, expect, it } from "vitest";
import { MAX_PREFETCH, PREFETCH } from "../../../src/agents/distributor/worker-registry.js";
import { LEGACY_BACKLOG_PER_SLOT, type WorkerHeartbeat } from "../../../src/agents/protocol.js";
import type { DistributorAgent } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * A distributor hands a worker up to twice its concurrency (the rest waits in the worker's
 * backlog), so the worker never idles while results and commits are on their way. An attempt
 * waiting there longer than the heartbeat timeout must not look lost: the worker lists it.
 */

/**
 * A heartbeat timeout no stall of a loaded machine reaches: these tests count attempts, and a
 * worker declared dead for a stalled event loop (FAST's 400 ms) has its attempts run again.
 */
const PATIENT = { ...FAST, heartbeatTimeoutMs: 5000 };

/**
 * 600 quick tasks in one go, every one of them completed at its first attempt (a refusal,
 * "overloaded", would have failed one and run it again); the largest room the worker had
 * meanwhile, read each time the distributor resized it (a poll could miss a peak that a slow
 * attempt, under load, took back before the poll came round).
 */
async function quickTasks(
  cluster: TestCluster,
  d: DistributorAgent,
  tag: string,
  room: () => number,
): Promise<number> {
  const ids = Array.from({ length: 600 }, (_, i) => cluster.id(`${tag}-${i}`));
  let peak = room();
  const registry = d.core.registry;
  const reported = registry.reported.bind(registry);
  registry.reported = (...args: Parameters<typeof reported>) => {
    reported(...args);
    peak = Math.max(peak, room());
  };
  try {
    await cluster.coordinator.submitTasks(
      ids.map((id, i) => ({ task_id: id, task_type: "echo", payload: { i } })),
    );
    // A bound for a hang, not a speed check: on a loaded 2-core machine the 600 took over 20 s.
    const done = await Promise.all(ids.map((id) => cluster.coordinator.waitForTask(id, 60_000)));
    expect(done.filter((t) => t?.status !== "completed" || t?.attempts !== 1)).toEqual([]);
  } finally {
    registry.reported = reported;
  }
  return Math.max(peak, room());
}

describe("prefetch", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("a worker holds twice its concurrency; a queued attempt outliving the heartbeat timeout is not taken back", async () => {
    // A heartbeat timeout long enough that a loaded machine does not declare the worker dead,
    // and tasks that each run longer than it: the one queued behind waits past the timeout.
    const timing = { ...FAST, heartbeatTimeoutMs: 1200 };
    cluster = new TestCluster({ url: `memory://prefetch-${process.pid}` }, { concurrency: 1, timing });
    const d = await cluster.startOne();
    const w = cluster.workers.get("w1")!;
    const ids = [cluster.id("slow-0"), cluster.id("slow-1")];
    await cluster.coordinator.submitTasks(
      ids.map((id) => ({ task_id: id, task_type: "sleep", payload: { ms: 1400 } })),
    );
    await until("one waits in the worker's backlog", () => w.core.backlogSize > 0, 5_000, 10);
    expect(w.core.load).toBe(1); // one running,
    expect(w.core.backlogSize).toBe(1); // one waiting behind it
    // The worker's heartbeats list the waiting attempt: the distributor counts it as confirmed.
    const queued = () => [...d.core.registry.get(w.agentId)!.inFlight.values()].every((f) => f.confirmed);
    await until("the distributor counts both as confirmed", queued, 5_000);
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 20_000)));
    expect(done.map((t) => t?.status)).toEqual(["completed", "completed"]);
    expect(done.map((t) => t?.attempts)).toEqual([1, 1]); // neither was taken back and run again
    expect(cluster.stale).toEqual([]);
  }, 30_000);

  it("a worker gets its next task while the outcome it reported is still being committed", async () => {
    // No attempt is taken back while the commits wait (a reported attempt runs on no worker).
    const timing = { ...FAST, heartbeatTimeoutMs: 5000 };
    cluster = new TestCluster({ url: `memory://prefetch-commit-${process.pid}` }, { concurrency: 1, timing });
    const d = await cluster.startOne();
    const w = cluster.workers.get("w1")!;
    // Every commit is held until released: what the worker reported stays uncommitted.
    const held: Array<() => void> = [];
    let outcomesHeld = 0;
    let released = false;
    const commit = d.ledger.commitAttempts.bind(d.ledger);
    d.ledger.commitAttempts = (outcomes) => {
      if (released) return commit(outcomes);
      outcomesHeld += outcomes.length;
      return new Promise<void>((resolve) => held.push(resolve)).then(() => commit(outcomes));
    };
    const ids = [0, 1, 2].map((i) => cluster!.id(`quick-${i}`));
    await cluster.coordinator.submitTasks(ids.map((id) => ({ task_id: id, task_type: "echo", payload: {} })));
    // Room for two (PREFETCH x 1): both ran and reported; the third goes out because those two
    // hold no room while their commits wait, and it runs too.
    await until("the worker has run all three", () => w.core.done >= 3, 5_000, 10);
    expect(w.core.done).toBe(3);
    expect(outcomesHeld).toBeGreaterThanOrEqual(2);
    const attempts = d.core.registry.get(w.agentId)!.inFlight;
    expect(attempts.size).toBe(3);
    // Released, everything is committed once, and the room is as before.
    released = true;
    while (held.length > 0) held.shift()!();
    const done = await Promise.all(ids.map((id) => cluster!.coordinator.waitForTask(id, 10_000)));
    expect(done.map((t) => t?.status)).toEqual(["completed", "completed", "completed"]);
    expect(done.map((t) => t?.attempts)).toEqual([1, 1, 1]);
    await until("no attempt is left in flight", () => attempts.size === 0, 8_000, 10);
    expect(attempts.reported).toBe(0);
    // Quick tasks with one waiting behind them: its room grew (WorkerRegistry.reported), all free.
    const entry = d.core.registry.get(w.agentId)!;
    expect(entry.prefetch).toBeGreaterThan(PREFETCH);
    expect(d.core.registry.free(entry)).toBe(entry.prefetch);
  }, 30_000);

  it("quick tasks behind a backlog grow a worker's room to MAX_PREFETCH, and the worker refuses none", async () => {
    cluster = new TestCluster(
      { url: `memory://prefetch-grow-${process.pid}` },
      { concurrency: 2, timing: PATIENT },
    );
    const d = await cluster.startOne();
    const w = cluster.workers.get("w1")!;
    const entry = () => d.core.registry.get(w.agentId)!;
    const peak = await quickTasks(cluster, d, "grow", () => entry().prefetch);
    expect(peak).toBe(MAX_PREFETCH);
  }, 90_000);

  it("an older worker (it queues four per slot and does not say so): its room stops at four, and it refuses none", async () => {
    cluster = new TestCluster(
      { url: `memory://prefetch-older-${process.pid}` },
      { concurrency: 2, timing: PATIENT },
    );
    await cluster.startCoordinator();
    const d = await cluster.startDistributor("d1");
    const w = await cluster.startWorker("w1", "d1");
    // As a worker of an earlier release: a backlog of four per slot, heartbeats without backlog_per_slot.
    (w.core as unknown as { options: { maxBacklog: number } }).options.maxBacklog =
      2 * LEGACY_BACKLOG_PER_SLOT;
    const heartbeat = w.core.heartbeat.bind(w.core);
    w.core.heartbeat = (...args: Parameters<typeof heartbeat>): WorkerHeartbeat => {
      const { backlog_per_slot: _, ...older } = heartbeat(...args);
      return older;
    };
    await cluster.ready();
    const entry = () => d.core.registry.get(w.agentId)!;
    await until(
      "the older worker's backlog bound is known",
      () => entry().maxPrefetch === LEGACY_BACKLOG_PER_SLOT,
      5_000,
      10,
    );
    const peak = await quickTasks(cluster, d, "older", () => entry().prefetch);
    expect(peak).toBe(LEGACY_BACKLOG_PER_SLOT);
  }, 90_000);
});
