import { trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
} from "@opentelemetry/sdk-trace-base";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { A2AMessage, Task, TaskHandler } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * With an OpenTelemetry SDK installed, every task is one trace across the three tiers: the
 * coordinator's submit span is its root, and dispatch (distributor), execute (worker) and commit
 * (distributor) follow as a parent/child chain, the context carried in the task's payloads.
 */

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });

/** Fails a task's first attempt, so that it is retried. */
const flaky: TaskHandler<Task> = (task, ctx) => {
  if (ctx.attempt <= 1) throw new Error("first attempt fails on purpose");
  return { n: task.payload.n ?? null };
};

const taskSpans = (taskId: string) =>
  exporter
    .getFinishedSpans()
    .filter((s) => s.attributes["triad.task.id"] === taskId)
    .sort((a, b) => a.startTime[0] - b.startTime[0] || a.startTime[1] - b.startTime[1]);

/** The spans of a task as one chain from its root, each the parent of the next; throws if they branch. */
function chainOf(spans: ReadableSpan[]): ReadableSpan[] {
  const roots = spans.filter((s) => s.parentSpanContext === undefined);
  expect(roots).toHaveLength(1);
  const chain = [roots[0]!];
  for (;;) {
    const last = chain[chain.length - 1]!;
    const children = spans.filter((s) => s.parentSpanContext?.spanId === last.spanContext().spanId);
    if (children.length === 0) break;
    expect(children).toHaveLength(1);
    chain.push(children[0]!);
  }
  return chain;
}

describe("traces of tasks through the three tiers", () => {
  let cluster: TestCluster;
  const messages: A2AMessage[] = [];

  beforeAll(async () => {
    trace.setGlobalTracerProvider(provider);
    cluster = new TestCluster({ url: `memory://tracing-${process.pid}` }, { handlers: { flaky } });
    const deliver = cluster.router.deliver.bind(cluster.router);
    cluster.router.deliver = (m, ...rest) => {
      messages.push(m);
      return deliver(m, ...rest);
    };
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w1", "d1");
    await cluster.startWorker("w2", "d1");
    await cluster.ready();
  });

  afterEach(() => exporter.reset());

  afterAll(async () => {
    await cluster.stop();
    trace.disable();
    await provider.shutdown();
  });

  it("one trace per task: submit -> dispatch -> execute -> commit, each the parent of the next", async () => {
    const c = cluster.coordinator;
    const ids = Array.from({ length: 5 }, (_, i) => cluster.id(`sum-${i}`));
    await c.submitTasks(
      ids.map((id, i) => ({
        task_id: id,
        task_type: "compute",
        payload: { operation: "sum", values: [i, 1] },
      })),
    );
    for (const id of ids) expect(await c.waitForTask(id, 5000)).toMatchObject({ status: "completed" });
    await until("every task's commit span", () =>
      ids.every((id) => taskSpans(id).some((s) => s.name === "triad.commit")),
    );

    const traceIds = new Set<string>();
    for (const id of ids) {
      const spans = taskSpans(id);
      const chain = chainOf(spans);
      expect(chain.map((s) => s.name)).toEqual([
        "triad.submit",
        "triad.dispatch",
        "triad.execute",
        "triad.commit",
      ]);
      expect(chain).toHaveLength(spans.length);
      const traceId = chain[0]!.spanContext().traceId;
      expect(chain.every((s) => s.spanContext().traceId === traceId)).toBe(true);
      traceIds.add(traceId);
      const [submit, dispatch, execute, commit] = chain;
      expect(submit!.attributes).toMatchObject({ "triad.task.type": "compute", "triad.agent.id": c.agentId });
      expect(dispatch!.attributes).toMatchObject({
        "triad.distributor.id": cluster.id("d1"),
        "triad.task.attempt": 1,
        "triad.task.fence": 1,
      });
      expect([cluster.id("w1"), cluster.id("w2")]).toContain(execute!.attributes["triad.worker.id"]);
      expect(commit!.attributes).toMatchObject({
        "triad.commit.verdict": "completed",
        "triad.task.fence": 1,
      });
    }
    expect(traceIds.size).toBe(ids.length);
  });

  it("a retried task stays one chain: the retry's dispatch follows the commit that decided it", async () => {
    const c = cluster.coordinator;
    const id = cluster.id("flaky");
    await c.submitTask({ task_id: id, task_type: "flaky", payload: { n: 7 } });
    expect(await c.waitForTask(id, 5000)).toMatchObject({ status: "completed", attempts: 2 });
    await until(
      "two commit spans",
      () => taskSpans(id).filter((s) => s.name === "triad.commit").length === 2,
    );

    const chain = chainOf(taskSpans(id));
    expect(chain.map((s) => s.name)).toEqual([
      "triad.submit",
      "triad.dispatch",
      "triad.execute",
      "triad.commit",
      "triad.dispatch",
      "triad.execute",
      "triad.commit",
    ]);
    expect(chain[2]!.status).toMatchObject({ code: 2, message: "first attempt fails on purpose" });
    expect(chain[3]!.attributes["triad.commit.verdict"]).toBe("retry");
    expect(chain[4]!.attributes["triad.task.attempt"]).toBe(2);
    expect(chain[6]!.attributes["triad.commit.verdict"]).toBe("completed");
  });

  it("the context travels in the payloads as W3C traceparent, beside the task dicts, not inside them", async () => {
    messages.length = 0;
    const id = cluster.id("carried");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "echo", payload: { hello: 1 } });
    await cluster.coordinator.waitForTask(id, 5000);
    await until("the commit span", () => taskSpans(id).some((s) => s.name === "triad.commit"));
    const spans = new Map(taskSpans(id).map((s) => [s.name, s]));
    const parentOf = (name: string) => {
      const sc = spans.get(name)!.spanContext();
      return `00-${sc.traceId}-${sc.spanId}-01`;
    };
    const data = (kind: string) =>
      messages.find((m) => m.payload.event_type === kind)?.payload.event_data as Record<string, unknown>;
    const assign = data("assign_tasks") as { tasks: Array<Record<string, unknown>>; traces: object };
    expect(assign.traces).toEqual({ [id]: { traceparent: parentOf("triad.submit") } });
    expect(Object.keys(assign.tasks[0]!)).not.toContain("trace");
    const execute = data("execute_tasks") as { tasks: Array<{ trace: object; task: object }> };
    expect(execute.tasks[0]!.trace).toEqual({ traceparent: parentOf("triad.dispatch") });
    expect(Object.keys(execute.tasks[0]!.task)).not.toContain("trace");
    const results = data("task_results") as { results: Array<{ trace: object }> };
    expect(results.results[0]!.trace).toEqual({ traceparent: parentOf("triad.execute") });
    const terminal = data("task_terminal") as { traces: Record<string, { traceparent: string }> };
    expect(terminal.traces[id]!.traceparent).toBe(parentOf("triad.commit"));
  });
});
