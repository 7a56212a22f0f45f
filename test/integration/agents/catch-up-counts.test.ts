import { describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { taskCounts } from "../../../src/server/dashboard/cluster-view.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { idOwnedBy, shardsSplit, twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine. */
const WAIT_MS = 30_000;

/**
 * A waiter's own read of an end (the catch-up, when its news was lost) counts the end only on a
 * coordinator that has been alone since it started: one that was not may wait for an end that
 * another coordinator heard first-hand and counted, then died or stopped.
 */
describe.each(testEngines("catch-up-counts"))("a waiter's catch-up on $name", (engine) => {
  const cleanups = stopsPerTest(engine);

  it("counts nothing twice when the coordinator that counted the end stopped before the waiter's read", async () => {
    const { c1, c2 } = await twoCoordinators(engine.config(), cleanups);
    // The news c1 hears is lost, and its catch-up reads see the task open until c2 has stopped.
    c1.core.endedElsewhere = async () => {};
    const ledger = (c1.core as unknown as { o: { ledger: TaskLedger } }).o.ledger;
    const status = ledger.status.bind(ledger);
    let held = true;
    let heldReads = 0;
    ledger.status = async (id: string) => {
      if (!held) return status(id);
      heldReads++;
      return "in_progress";
    };
    await shardsSplit(c1, c2);
    // Accepted and placed by c2 (in a shard it owns: its distributor reports the end to it, and it
    // counts it), awaited through c1.
    const id = idOwnedBy(c2, "counted-once");
    expect(await c2.submitTask({ task_id: id, task_type: "echo", payload: {} })).toBe(true);
    const waiting = c1.waitForTask(id, 2 * WAIT_MS);
    await until("c2 counted the end", () => c2.core.stats.completed === 1, WAIT_MS);
    await until("c1's catch-up has looked", () => heldReads > 0, WAIT_MS);
    await c2.cleanup(); // a graceful stop: its counts stay in the cluster's (CoordinatorCounts)
    await until("c1 sees c2 gone", () => c1.cluster.peers.others().length === 0, WAIT_MS);
    held = false;
    expect(await waiting).toMatchObject({ task_id: id, status: "completed" });
    await until("c1's totals have c2's count", () => taskCounts(c1).completed >= 1, WAIT_MS);
    // Read by c1's waiter, counted by c2: once in the totals, not by c1 as well.
    expect(c1.core.stats.completed).toBe(0);
    expect(taskCounts(c1).completed).toBe(1);
  }, 120_000);
});
