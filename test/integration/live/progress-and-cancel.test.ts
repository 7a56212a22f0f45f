import { Annotation, START, StateGraph } from "@langchain/langgraph";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import type { A2AMessage, JsonValue, Task } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * Live progress and cancellation of a running attempt (SPEC "Waiting for input, progress,
 * stopping a running task"): ctx.progress reaches the task's `progress` key, coalesced so that
 * a handler reporting in a tight loop sends few messages and few writes; a stale attempt's
 * progress is dropped by its fence; a cancel fires the running attempt's ctx.signal (function
 * and LangGraph handlers) with "canceled by client", and that attempt's outcome is refused.
 */

const REPORTS = 20_000;
type Gate = { open: () => void; wait: Promise<void> };
const gate = (): Gate => {
  let open = () => {};
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { open, wait };
};

const seen = {
  reasons: new Map<string, unknown>(),
  durations: new Map<string, number>(),
  gates: new Map<string, Gate>(),
};

const GraphState = Annotation.Root({
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});
const graph = new StateGraph(GraphState)
  .addNode("first", (_s, config) => {
    (config.configurable as { progress: (v: JsonValue) => void }).progress({ node: "first" });
    return { steps: ["first"] };
  })
  .addNode("wait", (_s, config) => {
    const id = (config.configurable as { thread_id: string }).thread_id;
    return new Promise<{ steps: string[] }>((resolve) => {
      config.signal?.addEventListener("abort", () => {
        seen.reasons.set(id, config.signal?.reason);
        resolve({ steps: ["wait"] });
      });
    });
  })
  .addEdge(START, "first")
  .addEdge("first", "wait")
  .compile();

const handlers = {
  /** Reports REPORTS times, yielding now and then; returns the last value it reported. */
  chatty: async (task: Task, ctx: HandlerContext): Promise<JsonValue> => {
    const started = performance.now();
    for (let i = 0; i < REPORTS; i++) {
      ctx.progress({ i });
      if (i % 500 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    seen.durations.set(task.taskId, performance.now() - started);
    return { last: REPORTS - 1 };
  },
  /** Reports a step, then waits for the test to let it go. */
  stepwise: async (task: Task, ctx: HandlerContext): Promise<JsonValue> => {
    ctx.progress({ step: 1 });
    await seen.gates.get(task.taskId)!.wait;
    ctx.progress({ step: 2, of: 2 });
    return "done";
  },
  /** Runs until its signal fires; keeps the reason. */
  patient: (task: Task, ctx: HandlerContext): Promise<JsonValue> =>
    new Promise((resolve) => {
      ctx.progress("waiting");
      ctx.signal.addEventListener("abort", () => {
        seen.reasons.set(task.taskId, ctx.signal.reason);
        resolve("stopped");
      });
    }),
  /** Gives ctx.progress what JSON cannot carry. */
  sloppy: (_task: Task, ctx: HandlerContext): JsonValue => {
    try {
      ctx.progress({ when: new Date() } as unknown as JsonValue);
      return "accepted";
    } catch (err) {
      return { code: (err as { code?: string }).code ?? null };
    }
  },
  graph,
};

describe.each(testEngines("live", { cluster: true }))("progress and cancel on $name", (engine) => {
  let cluster: TestCluster;
  let progressMessages = 0;
  /** Loses the coordinator's cancel_attempts (as if it did not know the distributor's address). */
  let loseCoordinatorCancels = false;
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    await cluster?.stop();
  });
  afterAll(() => engine.teardown());

  async function start() {
    cluster = new TestCluster(engine.config(), {
      handlers: handlers as unknown as Record<string, never>,
      concurrency: 8,
    });
    progressMessages = 0;
    loseCoordinatorCancels = false;
    // Each test reads only what its own attempts noted: an earlier engine's "graph-1" reason
    // would pass the next engine's wait for its signal before its cancel had reached the handler.
    seen.reasons.clear();
    seen.durations.clear();
    seen.gates.clear();
    const deliver = cluster.router.deliver.bind(cluster.router);
    cluster.router.deliver = (message: A2AMessage, ...rest) => {
      if (message.payload.event_type === "task_progress") progressMessages++;
      if (
        loseCoordinatorCancels &&
        message.payload.event_type === "cancel_attempts" &&
        message.sender === cluster.coordinator.agentId
      )
        return { accepted: false as const, reason: "busy" as const, detail: "lost by the test" };
      return deliver(message, ...rest);
    };
    await cluster.startOne();
    return cluster.coordinator;
  }

  const task = (id: string, type: string) => ({ task_id: id, task_type: type, payload: {} });

  /** Polls the record until `check` holds (the store is the truth; no fixed sleep). */
  async function until<T>(read: () => Promise<T>, check: (v: T) => boolean, what: string): Promise<T> {
    for (let i = 0; i < 500; i++) {
      const v = await read();
      if (check(v)) return v;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  it("a handler reporting in a tight loop: few messages, few writes, and the last value in the task dict", async () => {
    const coordinator = await start();
    await coordinator.submitTask(task("chatty-1", "chatty"));
    const done = await coordinator.waitForTask("chatty-1", 20_000);
    expect(done).toMatchObject({ status: "completed", result: { last: REPORTS - 1 } });
    const record = await coordinator.ledger.get("chatty-1");
    expect(record?.task.progress).toEqual({ i: REPORTS - 1 });
    // At most one message per 250 ms of the handler's run (plus the first), whatever it reported.
    const ran = seen.durations.get("chatty-1")!;
    expect(progressMessages).toBeLessThanOrEqual(Math.ceil(ran / 250) + 1);
    const writer = cluster.distributors.get("d1")!.progress;
    // Each message is one write per attempt, and the outcome carries the last value (one more).
    expect(writer.written + writer.dropped).toBeLessThanOrEqual(progressMessages + 1);
    expect(writer.written).toBeGreaterThanOrEqual(1);
  });

  it("progress shows while the attempt runs, and the terminal dict keeps the last value", async () => {
    const coordinator = await start();
    const g = gate();
    seen.gates.set("step-1", g);
    await coordinator.submitTask(task("step-1", "stepwise"));
    const running = await until(
      () => coordinator.ledger.get("step-1"),
      (r) => r?.task.progress !== undefined,
      "progress",
    );
    expect(running?.task).toMatchObject({ status: "in_progress", progress: { step: 1 } });
    g.open();
    const done = await coordinator.waitForTask("step-1", 10_000);
    expect(done).toMatchObject({ status: "completed", progress: { step: 2, of: 2 } });
    expect((await coordinator.core.getTask("step-1"))?.progress).toEqual({ step: 2, of: 2 });
    // A task that never reported has no progress key (SPEC: absent when unused).
    await coordinator.submitTask(task("quiet-1", "echo"));
    const quiet = await coordinator.waitForTask("quiet-1", 10_000);
    expect(quiet).not.toHaveProperty("progress");
    expect((await coordinator.ledger.get("quiet-1"))?.task).not.toHaveProperty("progress");
  });

  it("a value that is not JSON is refused at ctx.progress with a code", async () => {
    const coordinator = await start();
    await coordinator.submitTask(task("sloppy-1", "sloppy"));
    const done = await coordinator.waitForTask("sloppy-1", 10_000);
    expect(done?.result).toEqual({ code: "ERR_INVALID_PROGRESS" });
    expect(done).not.toHaveProperty("progress");
  });

  it("a stale attempt's progress is dropped by its fence", async () => {
    const coordinator = await start();
    const d1 = cluster.distributors.get("d1")!;
    const g = gate();
    seen.gates.set("step-2", g);
    await coordinator.submitTask(task("step-2", "stepwise"));
    const running = await until(
      () => coordinator.ledger.get("step-2"),
      (r) => r?.task.progress !== undefined,
      "progress",
    );
    const fence = running!.fence;
    expect(await d1.progress.write({ task_id: "step-2", fence: fence - 1, progress: "old" })).toBe(false);
    expect(await d1.progress.write({ task_id: "step-2", fence: fence + 1, progress: "future" })).toBe(false);
    expect(await d1.progress.write({ task_id: "step-2", fence, progress: "now" })).toBe(true);
    expect((await coordinator.ledger.get("step-2"))?.task.progress).toBe("now");
    g.open();
    await coordinator.waitForTask("step-2", 10_000);
    // Ended: nothing writes progress any more, whatever its fence.
    expect(await d1.progress.write({ task_id: "step-2", fence, progress: "late" })).toBe(false);
    expect((await coordinator.ledger.get("step-2"))?.task.progress).toEqual({ step: 2, of: 2 });
  });

  it("cancel fires the running attempt's signal with 'canceled by client'; its outcome is refused", async () => {
    const coordinator = await start();
    await coordinator.submitTask(task("patient-1", "patient"));
    await until(
      () => coordinator.ledger.get("patient-1"),
      (r) => r?.task.progress === "waiting",
      "the attempt to run",
    );
    expect(await coordinator.cancelTask("patient-1")).toBe(true);
    await until(
      async () => seen.reasons.get("patient-1"),
      (r) => r !== undefined,
      "the handler's signal",
    );
    const reason = seen.reasons.get("patient-1") as Error & { code?: string };
    expect(reason.message).toBe("canceled by client");
    expect(reason.code).toBe("ERR_TASK_CANCELED");
    // The attempt ended at once on the worker; its outcome reached the distributor and was refused.
    await until(
      async () => cluster.stale.filter((s) => s.taskId === "patient-1").length,
      (n) => n > 0,
      "the refused outcome",
    );
    const record = await coordinator.ledger.get("patient-1");
    expect(record?.task).toMatchObject({ status: "abandoned", error: "canceled by client" });
    expect(cluster.commits.filter((c) => c.taskId === "patient-1")).toEqual([]);
    expect(cluster.workers.get("w1")!.core.load).toBe(0); // its slot is free
  });

  it("a cancel message that is lost: the distributor's reconcile drops the task and cancels the attempt", async () => {
    const coordinator = await start();
    loseCoordinatorCancels = true;
    await coordinator.submitTask(task(`patient-2-${engine.name}`, "patient"));
    await until(
      () => coordinator.ledger.get(`patient-2-${engine.name}`),
      (r) => r?.task.progress === "waiting",
      "the attempt to run",
    );
    expect(await coordinator.cancelTask(`patient-2-${engine.name}`)).toBe(true);
    await until(
      async () => seen.reasons.get(`patient-2-${engine.name}`),
      (r) => r !== undefined,
      "the handler's signal (by reconcile)",
    );
    expect((seen.reasons.get(`patient-2-${engine.name}`) as Error).message).toBe("canceled by client");
  });

  it("a LangGraph handler gets the cancel through LangGraph's signal, and reports progress from a node", async () => {
    const coordinator = await start();
    await coordinator.submitTask(task("graph-1", "graph"));
    await until(
      () => coordinator.ledger.get("graph-1"),
      (r) => r?.task.status === "in_progress" && r.task.progress !== undefined,
      "the graph's progress",
    );
    expect((await coordinator.ledger.get("graph-1"))?.task.progress).toEqual({ node: "first" });
    await coordinator.cancelTask("graph-1");
    await until(
      async () => seen.reasons.get("graph-1"),
      (r) => r !== undefined,
      "the graph's signal",
    );
    expect((seen.reasons.get("graph-1") as Error).message).toBe("canceled by client");
    expect((await coordinator.ledger.get("graph-1"))?.task.status).toBe("abandoned");
  });
});
