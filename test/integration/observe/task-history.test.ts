import { afterEach, describe, expect, it } from "vitest";
import type { TaskActivity } from "../../../src/agents/observe/coordinator-observer.js";
import type { A2AMessage, Task, TaskHandler } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * The coordinator's history of a task: what it was told and what it sent about it, each step
 * with the request_id of the A2A message behind it, so the dashboard can show the chain. No
 * OpenTelemetry SDK is installed here, so no trace context travels at all.
 */

const flaky: TaskHandler<Task> = (_task, ctx) => {
  if (ctx.attempt <= 1) throw new Error("first attempt fails on purpose");
  return { ok: true };
};

type Sent = { kind: string; requestId: string; sender: string; recipient: string; data: string };

function recording(cluster: TestCluster): Sent[] {
  const sent: Sent[] = [];
  const deliver = cluster.router.deliver.bind(cluster.router);
  cluster.router.deliver = (m: A2AMessage, ...rest) => {
    sent.push({
      kind: String(m.payload.event_type ?? m.type),
      requestId: m.metadata.request_id,
      sender: m.sender,
      recipient: m.recipient,
      data: JSON.stringify(m.payload),
    });
    return deliver(m, ...rest);
  };
  return sent;
}

describe("the coordinator's task history", () => {
  let cluster: TestCluster | undefined;
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });

  it("names every message that carried the task, by request_id, and the retries with their errors", async () => {
    cluster = new TestCluster({ url: `memory://history-${process.pid}` }, { handlers: { flaky } });
    const sent = recording(cluster);
    const c = await cluster.startCoordinator();
    const activity: TaskActivity[] = [];
    c.observer.on((a) => activity.push(a));
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.ready();

    const id = cluster.id("flaky-1");
    await c.submitTask({ task_id: id, task_type: "flaky", payload: {} });
    expect(await c.waitForTask(id, 5000)).toMatchObject({ status: "completed", attempts: 2 });

    const carrying = (kind: string) => sent.filter((m) => m.kind === kind && m.data.includes(id));
    const [assign] = carrying("assign_tasks");
    const executes = carrying("execute_tasks");
    const results = carrying("task_results");
    const [terminal] = carrying("task_terminal");
    expect(executes).toHaveLength(2);
    expect(results).toHaveLength(2);

    const events = c.observer.history.get(id);
    expect(events.map((e) => e.event)).toEqual(["submitted", "assigned", "retried", "committed"]);
    const [submitted, assigned, retried, committed] = events;
    expect(submitted).toMatchObject({ task_type: "flaky" });
    expect(submitted!.traceparent).toBeUndefined(); // no SDK: no trace context anywhere
    expect(assigned).toMatchObject({ distributor: cluster.id("d1"), request_id: assign!.requestId });
    expect(retried).toMatchObject({
      attempt: 1,
      worker: cluster.id("w1"),
      error: "first attempt fails on purpose",
      via: [executes[0]!.requestId, results[0]!.requestId],
    });
    expect(committed).toMatchObject({
      status: "completed",
      attempt: 2,
      worker: cluster.id("w1"),
      distributor: cluster.id("d1"),
      request_id: terminal!.requestId,
      via: [executes[1]!.requestId, results[1]!.requestId],
    });
    expect(sent.some((m) => m.data.includes("traceparent"))).toBe(false);

    const terminalActivity = activity.find((a) => a.type === "terminal");
    expect(terminalActivity).toMatchObject({ type: "terminal", task: { task_id: id, status: "completed" } });
    if (terminalActivity?.type !== "terminal") throw new Error("no terminal activity");
    expect(terminalActivity.latency_ms).toBeGreaterThan(0);
    expect(terminalActivity.retries).toHaveLength(1);
    expect(c.observer.counts.get("flaky")).toEqual({ submitted: 1, completed: 1, failed: 0, abandoned: 0 });
  });

  it("a task moved off a dead distributor shows both assignments and the reassignment between", async () => {
    cluster = new TestCluster({ url: `memory://history-${process.pid}` }, { concurrency: 2 });
    const c = await cluster.startCoordinator();
    const d1 = await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.startDistributor("d2");
    await cluster.startWorker("w2", "d2");
    await cluster.ready();

    const ids = Array.from({ length: 6 }, (_, i) => cluster!.id(`slow-${i}`));
    await c.submitTasks(ids.map((id) => ({ task_id: id, task_type: "sleep", payload: { ms: 400 } })));
    const placedOnD1 = () =>
      ids.filter((id) => c.observer.history.get(id).some((e) => e.distributor === d1.agentId));
    await until("d1's history shows some of them", () => placedOnD1().length > 0, 10_000);
    const onD1 = placedOnD1();
    await cluster.crash(d1);
    for (const id of ids) expect(await c.waitForTask(id, 10_000)).toMatchObject({ status: "completed" });

    for (const id of onD1) {
      const steps = c.observer.history.get(id).map((e) => `${e.event}:${e.distributor ?? ""}`);
      expect(steps).toEqual([
        "submitted:",
        `assigned:${d1.agentId}`,
        `reassigned:${d1.agentId}`,
        `assigned:${cluster.id("d2")}`,
        `committed:${cluster.id("d2")}`,
      ]);
    }
    expect(c.observer.history.get("no-such-task")).toEqual([]);
  });
});
