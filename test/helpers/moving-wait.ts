import { isStoreUnavailable } from "../../src/core/errors.js";
import type { AgentReply } from "../../src/index.js";
import type { TestCluster } from "./cluster.js";

/**
 * Waits for a task of a large graph to end while the graph moves: fails only when no task of the
 * store ended for `quietMs` (a liveness bound, not a speed), and then says where everything
 * stood (the store's counts, the open tasks' states, the coordinator's and distributors' views).
 * On a loaded machine a graph of 10,000 tasks can take minutes and still be moving.
 */
export async function waitWhileMoving(
  cluster: TestCluster,
  taskId: string,
  options: { quietMs?: number; log?: (line: string) => void } = {},
): Promise<AgentReply> {
  const quietMs = options.quietMs ?? 60_000;
  const c = cluster.coordinator;
  let ended = -1;
  let movedAt = performance.now();
  for (;;) {
    // A store that does not answer in time (a loaded host) is no answer this round, not a failure:
    // the quiet bound still runs.
    const now = await unlessStoreBusy(async () => {
      const end = await c.waitForTask(taskId, 2_000);
      if (end) return end;
      const counts = await c.ledger.endCounts();
      return (counts.completed ?? 0) + (counts.failed ?? 0) + (counts.abandoned ?? 0);
    });
    if (now !== null && typeof now !== "number") return now;
    if (now !== null && now !== ended) {
      ended = now;
      movedAt = performance.now();
      if (options.log)
        options.log(`ended ${now}: ${JSON.stringify(await unlessStoreBusy(() => where(cluster, 0)))}`);
    } else if (performance.now() - movedAt > quietMs) {
      const state = await unlessStoreBusy(() => where(cluster, 5));
      throw new Error(`no task ended for ${quietMs} ms (${ended} ended): ${JSON.stringify(state)}`);
    }
  }
}

/** `read()`, or null when the store did not answer in time. */
async function unlessStoreBusy<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch (err) {
    if (isStoreUnavailable(err)) return null;
    throw err;
  }
}

/** Where the graph stands: the store's sets and counts, `sample` open tasks, each agent's view. */
async function where(cluster: TestCluster, sample: number): Promise<Record<string, unknown>> {
  const c = cluster.coordinator;
  const [counts, open, waiting, endedSet] = await Promise.all([
    c.ledger.endCounts(),
    c.ledger.openTaskIds(),
    c.ledger.waitingTaskIds(),
    c.ledger.endedTaskIds(),
  ]);
  const byStatus: Record<string, number> = {};
  const records = await c.ledger.getMany(open);
  for (const r of records) {
    const key = `${r?.task.status ?? "missing"}${r?.distributor ? "@dist" : ""}`;
    byStatus[key] = (byStatus[key] ?? 0) + 1;
  }
  const samples = records.slice(0, sample).map((r) => ({
    id: r?.task.task_id,
    status: r?.task.status,
    distributor: r?.distributor,
    waiting_on: (r?.task.waiting_on ?? []).slice(0, 3),
  }));
  const distributors = [...cluster.distributors.values()].map((d) => ({
    id: d.core.id,
    held: d.core.load,
    queued: d.core.queue.size,
    inFlight: d.core.registry.all().reduce((n, w) => n + w.inFlight.size, 0),
  }));
  return {
    counts,
    open: open.length,
    byStatus,
    waiting: waiting.length,
    endedSet: endedSet.length,
    coordinator: c.core.stats,
    distributors,
    samples,
  };
}
