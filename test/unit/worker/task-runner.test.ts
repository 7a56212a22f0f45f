import { describe, expect, it } from "vitest";
import { AttemptCancel } from "../../../src/agents/live/attempt-cancel.js";
import { type HandlerContext, runTask } from "../../../src/agents/worker/task-runner.js";

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
