import { describe, expect, it, vi } from "vitest";
import { AttemptCancel } from "../../../src/agents/live/attempt-cancel.js";
import type { DispatchedTask } from "../../../src/agents/protocol.js";
import { type HandlerContext, runAttempt, runTask } from "../../../src/agents/worker/task-runner.js";
import { WorkerCore } from "../../../src/agents/worker/worker-core.js";

/** One attempt run to an outcome: the handler's answer, or whichever of its time and a cancel comes first. */

const task = { taskId: "t1", taskType: "echo", payload: { i: 1 } };
const never = () => new Promise<never>(() => {});

describe("runTask", () => {
  it("completes with what an async handler resolves to, and fails with what it rejects with", async () => {
    expect(await runTask(async (t) => t.payload, task, { timeoutMs: 1000 })).toEqual({
      status: "completed",
      result: { i: 1 },
    });
    expect(
      await runTask(
        async () => {
          throw new Error("boom");
        },
        task,
        { timeoutMs: 1000 },
      ),
    ).toEqual({ status: "failed", error: "boom" });
  });

  it("fails a function handler that returns a Map or a Set, which JSON would write as {} (a graph's result was refused already)", () => {
    for (const [value, kind] of [
      [{ counts: new Map([["a", 1]]) }, "Map"],
      [[new Set([1, 2])], "Set"],
    ] as const) {
      expect(runAttempt(() => value as never, task, { timeoutMs: 1000 })).toEqual({
        status: "failed",
        error: `the handler returned something that is not JSON (${Array.isArray(value) ? "result[0]" : "result.counts"}: a ${kind} is not JSON (convert it to an object or array))`,
        retry: false,
      });
    }
  });

  it("fails a result JSON cannot carry (a BigInt, a function, a cycle) at once, not retried, naming what is not JSON", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const [value, why] of [
      [{ n: 10n }, "result.n: a BigInt is not JSON"],
      [{ f: () => 1 }, "result.f: a function is not JSON"],
      [cyclic, "it contains a cycle"],
    ] as const) {
      const outcome = runAttempt(() => value as never, task, { timeoutMs: 1000 });
      expect(outcome).toMatchObject({ status: "failed", retry: false });
      expect((outcome as { error: string }).error).toContain(
        `the handler returned something that is not JSON (${why}`,
      );
    }
  });

  it("fails a handler that outlasts its time, and fires its signal with the reason", async () => {
    let signal: AbortSignal | undefined;
    const outcome = await runTask(
      (_t, ctx: HandlerContext) => {
        signal = ctx.signal;
        return never();
      },
      task,
      { timeoutMs: 30 },
    );
    expect(outcome).toEqual({ status: "failed", error: "task timed out after 30 ms" });
    expect(signal?.aborted).toBe(true);
    expect((signal?.reason as Error | undefined)?.message).toBe("task timed out after 30 ms");
  });

  it("stays timed out when the handler settles from its abort listener", async () => {
    const outcome = await runTask(
      (_t, ctx: HandlerContext) =>
        new Promise((resolve) => ctx.signal.addEventListener("abort", () => resolve("too late"))),
      task,
      { timeoutMs: 20 },
    );
    expect(outcome).toEqual({ status: "failed", error: "task timed out after 20 ms" });
  });

  it("ends at once when canceled, with the cancel's reason, before its time is up", async () => {
    const cancel = new AttemptCancel();
    setTimeout(() => cancel.cancel(), 10);
    // Its time (10 s) would have ended it with "task timed out"; the cancel's reason says which came first.
    const outcome = await runTask(never, task, { timeoutMs: 10_000, cancel });
    expect(outcome).toEqual({ status: "failed", error: "canceled by client" });
  });

  it("lets a handler that rejects after its time is up reject into nothing (no unhandled rejection)", async () => {
    const unhandled: unknown[] = [];
    const listener = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", listener);
    try {
      const outcome = await runTask(
        () => new Promise((_, reject) => setTimeout(() => reject(new Error("late")), 40)),
        task,
        { timeoutMs: 10 },
      );
      expect(outcome.status).toBe("failed");
      await new Promise((r) => setTimeout(r, 80));
      expect(unhandled).toEqual([]);
    } finally {
      process.off("unhandledRejection", listener);
    }
  });
});

describe("runAttempt", () => {
  it("answers at once, with no promise, when the handler does", () => {
    expect(runAttempt((t) => t.payload, task, { timeoutMs: 1000 })).toEqual({
      status: "completed",
      result: { i: 1 },
    });
    expect(
      runAttempt(
        () => {
          throw new Error("boom");
        },
        task,
        { timeoutMs: 1000 },
      ),
    ).toEqual({ status: "failed", error: "boom" });
    expect(runAttempt((_t, ctx) => ctx.requestInput({ ask: "name" }), task, { timeoutMs: 1000 })).toEqual({
      status: "input_required",
      request: { ask: "name" },
      key: "",
    });
    // No question (none given, or undefined) asks with a null request, as interrupt() with no value does.
    for (const ask of [
      (ctx: HandlerContext) => ctx.requestInput(),
      (ctx: HandlerContext) => ctx.requestInput(undefined),
    ])
      expect(runAttempt((_t, ctx) => ask(ctx), task, { timeoutMs: 1000 })).toEqual({
        status: "input_required",
        request: null,
        key: "",
      });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const notJson = runAttempt(() => cyclic as never, task, { timeoutMs: 1000 });
    expect(notJson).not.toBeInstanceOf(Promise);
    expect((notJson as { status: string }).status).toBe("failed");
    expect((notJson as { error: string }).error).toMatch(/not JSON/);
    const spawned = runAttempt(
      (_t, ctx) => {
        ctx.spawn([{ task_type: "echo", payload: { n: 2 } }]);
        return "ok";
      },
      task,
      { timeoutMs: 1000 },
    );
    expect(spawned).not.toBeInstanceOf(Promise);
    expect(spawned).toMatchObject({ status: "completed", result: "ok", spawn: [{ task_id: "t1.1" }] });
  });

  it("gives a context whose members work taken apart, and shows nothing else of the attempt", async () => {
    const progress: unknown[] = [];
    const cancel = new AttemptCancel();
    const seen: Record<string, unknown> = {};
    const outcome = runAttempt(
      async (_t, context) => {
        const { spawn, progress: report, signal, attempt, inputs, dependencies, requestInput } = context;
        seen.keys = Object.keys(context);
        seen.copy = { ...context };
        seen.attempt = attempt;
        seen.inputs = inputs;
        seen.dependencies = dependencies;
        seen.sameSignal = signal === context.signal;
        seen.sameSpawn = spawn === context.spawn;
        report({ done: 1 });
        spawn([{ task_type: "echo", payload: {} }]);
        cancel.cancel(new Error("stop"));
        await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve()));
        seen.reason = (signal.reason as Error).message;
        return requestInput("never asked: the attempt was canceled");
      },
      task,
      {
        timeoutMs: 1000,
        attempt: 3,
        inputs: ["a"],
        dependencies: { d1: { status: "completed", result: 1 } } as never,
        onProgress: (v) => progress.push(v),
        cancel,
      },
    );
    await outcome;
    expect(seen).toMatchObject({
      keys: [],
      copy: {},
      attempt: 3,
      inputs: ["a"],
      dependencies: { d1: { status: "completed" } },
      sameSignal: true,
      sameSpawn: true,
      reason: "stop",
    });
    expect(progress).toEqual([{ done: 1 }]);
  });

  it("gives a promise when the handler does, settled by the handler or its time", async () => {
    const pending = runAttempt(async () => "later", task, { timeoutMs: 1000 });
    expect(pending).toBeInstanceOf(Promise);
    expect(await pending).toEqual({ status: "completed", result: "later" });
    expect(await runAttempt(() => never(), task, { timeoutMs: 20 })).toEqual({
      status: "failed",
      error: "task timed out after 20 ms",
    });
  });
});

describe("a worker whose handler answers at once", () => {
  it("runs a backlog of thousands at concurrency 1 to the end, each outcome sent once, in order", async () => {
    const sent: string[] = [];
    const core = new WorkerCore({
      capacity: 1,
      resendMs: 60_000,
      maxBacklog: 10_000,
      handlerFor: () => (t) => t.payload,
      toHandlerTask: (dict) => ({ taskId: dict.task_id, taskType: dict.task_type, payload: dict.payload }),
      send: async (payload) => {
        if (payload.kind === "task_results") for (const r of payload.results) sent.push(r.task_id);
      },
    });
    const jobs = Array.from({ length: 5000 }, (_, i) => ({
      fence: 1,
      timeout_ms: 1000,
      task: {
        task_id: `t${i}`,
        task_type: "echo",
        payload: { i },
        status: "in_progress",
        result: null,
        error: null,
        attempts: 1,
        assigned_to: "w",
        created_at: "2026-12-04T00:00:00.000Z",
        started_at: null,
        completed_at: null,
      },
    })) as DispatchedTask[];
    core.accept(jobs);
    expect(core.load).toBe(0); // every attempt already over: nothing running, nothing queued
    expect(core.done).toBe(5000);
    await vi.waitFor(() => expect(sent).toHaveLength(5000), { timeout: 10_000 });
    expect(sent).toEqual(jobs.map((j) => j.task.task_id));
    core.stop();
  });
});
