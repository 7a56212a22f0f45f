import { afterEach, describe, expect, it } from "vitest";
import { resolveSecret } from "../../../src/agents/agent-base.js";
import { A2AClient, type JsonObject, MessageType } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * Issue 21, item 8: a valid signature says only that the sender holds a key of the deployment.
 * A result is taken only from the worker its attempt was dispatched to, and a task's end only
 * from the distributor that holds the task; anything else is refused, counted and logged like
 * a refused message (reason `unauthorized`), and the task still ends as its real worker says.
 */

describe("only the holder of an attempt may report on it", () => {
  let cluster: TestCluster | undefined;
  let forger: A2AClient | undefined;
  afterEach(async () => {
    await forger?.close();
    await cluster?.stop();
    cluster = forger = undefined;
  });

  /** A cluster of one distributor and two workers, and a task of `ms` running on one of them. */
  async function running(ms: number) {
    cluster = new TestCluster({ url: `memory://foreign-${process.pid}`, keyPrefix: uniquePrefix("fr") });
    await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await cluster.startWorker("wa", "d1");
    await cluster.startWorker("wb", "d1");
    await cluster.ready();
    const taskId = cluster.id("t");
    await cluster.coordinator.submitTask({ task_id: taskId, task_type: "sleep", payload: { ms } });
    let holder = "";
    let fence = -1;
    await until(
      "the task is dispatched",
      () => {
        for (const w of d1.core.registry.all()) {
          const f = w.inFlight.get(taskId)?.fence ?? -1;
          if (f > 0) [holder, fence] = [w.id, f];
        }
        return fence > 0;
      },
      5_000,
      5,
    );
    const other = [cluster.id("wa"), cluster.id("wb")].find((id) => id !== holder)!;
    return { d1, taskId, holder, other, fence };
  }

  /** A client that signs with the deployment's secret as `agentId`, delivering by hand. */
  function forgeAs(agentId: string): A2AClient {
    forger = new A2AClient({ agentId, tokenSecret: resolveSecret(undefined), router: null });
    return forger;
  }

  it("refuses a validly signed result from a worker the attempt was not dispatched to", async () => {
    const { d1, taskId, other, fence } = await running(400);
    const refused: string[] = [];
    d1.a2a.onRejected((e) => refused.push(`${e.reason}:${e.sender}`));
    const forged = forgeAs(other).createMessage(
      d1.agentId,
      {
        event_type: "task_results",
        event_data: { results: [{ task_id: taskId, fence, status: "completed", result: { forged: true } }] },
      },
      MessageType.EVENT,
    );
    expect(await d1.a2a.handleMessage(forged)).toBe(true); // authentic, so admitted; its result is not

    const task = await cluster!.coordinator.waitForTask(taskId, 5_000);
    expect(task?.status).toBe("completed");
    expect(task?.result).toEqual({ slept_ms: 400 });
    expect((await cluster!.settled([taskId])).get(taskId)).toBe(1);
    expect(d1.core.stats.foreignRejected).toBe(1);
    expect(d1.a2a.stats().rejected.unauthorized).toBe(1);
    expect(refused).toEqual([`unauthorized:${other}`]);
    // It rides on the distributor's report, as the other refusals do (triad_messages_rejected_total).
    const report = (d1 as unknown as { observer: { report(): { rejected: JsonObject } } }).observer.report();
    expect(report.rejected.unauthorized).toBe(1);
  });

  it("takes the result of an attempt not in memory when the ledger says the sender runs it", async () => {
    // As just after a restart, before reconcile adopted the attempt: only Redis knows it.
    const { d1, taskId, holder } = await running(150);
    d1.core.registry.get(holder)!.inFlight.delete(taskId);
    const task = await cluster!.coordinator.waitForTask(taskId, 5_000);
    expect(task?.status).toBe("completed");
    expect(d1.core.stats.foreignRejected).toBe(0);
    expect(d1.a2a.stats().rejected.unauthorized).toBe(0);
  });

  it("has a worker take work only from its own distributor", async () => {
    const { other, holder } = await running(100);
    const victim = cluster!.workers.get(holder === cluster!.id("wa") ? "wa" : "wb")!;
    const before = victim.core.load;
    const job = {
      fence: 7,
      timeout_ms: 1_000,
      task: {
        task_id: cluster!.id("nobody-submitted"),
        task_type: "sleep",
        payload: { ms: 1 },
        status: "in_progress",
        result: null,
        error: null,
        attempts: 1,
        assigned_to: victim.agentId,
        created_at: new Date().toISOString(),
        started_at: null,
        completed_at: null,
      },
    };
    const forged = forgeAs(other).createMessage(
      victim.agentId,
      { event_type: "execute_tasks", event_data: { tasks: [job] } },
      MessageType.EVENT,
    );
    expect(await victim.a2a.handleMessage(forged)).toBe(true);
    expect(victim.a2a.stats().rejected.unauthorized).toBe(1);
    expect(victim.core.load).toBeLessThanOrEqual(before);
  });

  it("refuses a task's end reported by a distributor that does not hold it", async () => {
    const { taskId } = await running(300);
    const coordinator = cluster!.coordinator;
    const stranger = cluster!.id("d2");
    const forged = forgeAs(stranger).createMessage(
      coordinator.agentId,
      {
        event_type: "task_terminal",
        event_data: {
          tasks: [
            {
              task_id: taskId,
              task_type: "sleep",
              payload: { ms: 300 },
              status: "completed",
              result: { forged: true },
              error: null,
              attempts: 1,
              assigned_to: stranger,
              created_at: new Date().toISOString(),
              started_at: null,
              completed_at: new Date().toISOString(),
            },
          ],
        },
      },
      MessageType.EVENT,
    );
    expect(await coordinator.a2a.handleMessage(forged)).toBe(true);
    // Refused once the ledger is read for a task this coordinator did not place there.
    await until(
      "the forged end is refused",
      () => coordinator.a2a.stats().rejected.unauthorized === 1,
      5_000,
    );
    expect((await coordinator.core.getTask(taskId))?.status).toBe("in_progress");

    const task = await coordinator.waitForTask(taskId, 5_000);
    expect(task?.result).toEqual({ slept_ms: 300 });
    expect(coordinator.a2a.stats().rejected.unauthorized).toBe(1);
    expect(coordinator.core.stats.completed).toBe(1);
  });
});
