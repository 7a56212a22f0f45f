import { describe, expect, it } from "vitest";
import type { DistributorAgent, JsonValue, Task } from "../../../src/index.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * The attempt number a handler is told (ctx.attempt) is the store's attempt count, written by
 * the dispatch script in the step that starts the attempt — not the distributor's copy of the
 * task plus one. A copy can be behind: a dead distributor's task is read by the coordinator's
 * take-off, then, before the move lands, the stalled distributor starts it again (its attempt 2);
 * the task moves with the copy read before (attempts 1). Its next attempt is the 3rd, as the
 * store counts (and decides its retries by); the handler was told 2.
 */

/** Until the coordinator has heard `d` healthy, with room (until then it places nothing there). */
async function heard(cluster: TestCluster, d: DistributorAgent): Promise<void> {
  const dir = cluster.coordinator.core.directory;
  await until(
    "the coordinator hears d2 healthy",
    () => dir.healthy().some((e) => e.id === d.agentId) && (dir.get(d.agentId)?.capacity ?? 0) > 0,
    20_000,
  );
}

describe.each(testEngines("handler-attempt"))("the attempt number a handler sees ($name)", (engine) => {
  const newCluster = clusterPerTest(engine);

  it("is the store's attempt count when the copy that moved is behind it", async () => {
    const seen: number[] = [];
    const cluster = newCluster({
      timing: { ...FAST, heartbeatTimeoutMs: 20_000 },
      handlers: {
        echo: async (_task: Task, ctx: { attempt: number }): Promise<JsonValue> => {
          seen.push(ctx.attempt);
          return { ok: true };
        },
      },
    });
    const coordinator = await cluster.startCoordinator();
    const d2 = await cluster.startDistributor("d2");
    await cluster.startWorker("w2", "d2");
    await cluster.ready();
    await heard(cluster, d2);
    const ledger = coordinator.ledger;
    const [t, d1, w1] = ["t", "d1", "w1"].map((n) => cluster.id(n)) as [string, string, string];
    const submitted = await ledger.submit(
      {
        taskId: t,
        taskType: "echo",
        payload: {},
        createdAt: new Date().toISOString(),
        maxRetries: 3,
        backoffMs: 0,
      },
      d1,
    );
    expect(submitted).toBe(true);
    expect(await ledger.dispatch(t, d1, w1)).toBe(1); // attempt 1 in progress on d1, which stalls

    // Taken off d1 with its record as read (attempts 1); before the move lands, d1 — stalled, not
    // dead — takes its attempt back (its worker declared dead) and starts attempt 2.
    const assignTo = ledger.assignTo.bind(ledger);
    let restarted = false;
    ledger.assignTo = async (taskId, distributorId, owner) => {
      if (taskId === t && !restarted) {
        restarted = true;
        expect(await ledger.requeue(t, d1, 1)).toBe(true);
        expect(await ledger.dispatch(t, d1, w1)).toBe(3);
        expect((await ledger.get(t))?.task.attempts).toBe(2);
      }
      return assignTo(taskId, distributorId, owner);
    };
    await coordinator.core.moveOff(d1, true);
    expect(await coordinator.waitForTask(t, 20_000)).toMatchObject({ status: "completed" });
    expect(restarted).toBe(true);
    const record = await ledger.get(t);
    expect([record?.distributor, record?.task.attempts]).toEqual([d2.agentId, 3]);
    expect(seen).toEqual([3]);
  }, 60_000);
});
