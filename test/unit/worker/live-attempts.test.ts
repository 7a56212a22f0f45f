import { describe, expect, it, vi } from "vitest";
import { ProgressCoalescer, type ProgressUpdate } from "../../../src/agents/live/progress-coalescer.js";
import { checkProgress } from "../../../src/agents/live/progress-value.js";
import type { HandlerContext, HandlerTask } from "../../../src/agents/worker/task-runner.js";
import type { JsonValue } from "../../../src/core/json.js";
import { dispatched, workerCoreFor } from "../../helpers/worker-core-for.js";

/**
 * The worker's side of live attempts: progress coalesced to the latest value per attempt (one
 * send per interval, however many reports), checked where it enters; a cancel fires a running
 * attempt's signal and ends it at once, keeps a queued one from starting, and spares newer attempts.
 */

const until = async (check: () => boolean) => {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(check()).toBe(true);
};

describe("ProgressCoalescer", () => {
  it("sends only each attempt's latest value, in one message, however often it is told", async () => {
    const sent: ProgressUpdate[][] = [];
    const c = new ProgressCoalescer({ send: async (u) => void sent.push(u), intervalMs: 20 });
    for (let i = 0; i < 10_000; i++) c.report("a", 1, { i });
    c.report("b", 3, "half");
    await until(() => sent.length === 1);
    expect(sent[0]).toEqual([
      { task_id: "a", fence: 1, progress: { i: 9999 } },
      { task_id: "b", fence: 3, progress: "half" },
    ]);
    // Nothing new: nothing sent. take() hands over the latest value for the outcome, once.
    await new Promise((r) => setTimeout(r, 50));
    expect(sent).toHaveLength(1);
    expect(c.take("a", 1)).toEqual({ i: 9999 });
    expect(c.take("a", 1)).toBeUndefined();
    expect(c.take("b", 2)).toBeUndefined(); // another attempt's value is not this one's
    c.stop();
  });

  it("take() of an attempt that reported nothing looks nothing up while none is kept (every attempt's end asks)", () => {
    const c = new ProgressCoalescer({ send: async () => {}, intervalMs: 20 });
    const lookups = vi.spyOn(Map.prototype, "get");
    try {
      expect(c.take("a", 1)).toBeUndefined();
      expect(lookups).not.toHaveBeenCalled();
      c.report("b", 2, "half");
      expect(c.take("a", 1)).toBeUndefined(); // one is kept: looked up, and it is not this one
      expect(lookups).toHaveBeenCalledTimes(1);
      expect(c.take("b", 2)).toBe("half");
    } finally {
      lookups.mockRestore();
      c.stop();
    }
  });

  it("ctx.progress takes plain JSON of at most 16 KiB, and says why not with a code", () => {
    expect(checkProgress({ done: 1, total: 2 })).toEqual({ done: 1, total: 2 });
    expect(checkProgress(null)).toBeNull();
    for (const bad of [undefined, new Date(), { f: () => 1 }, "x".repeat(20_000), 1n])
      expect(() => checkProgress(bad)).toThrow(expect.objectContaining({ code: "ERR_INVALID_PROGRESS" }));
  });
});

describe("WorkerCore cancel", () => {
  const job = (id: string, fence: number) => dispatched(id, "wait", fence);

  it("fires a running attempt's signal with 'canceled by client', skips a queued one, spares newer ones", async () => {
    const reasons = new Map<string, unknown>();
    const { core, sent: outcomes } = workerCoreFor({
      capacity: 1,
      resendMs: 60_000,
      handler: (task: HandlerTask, ctx: HandlerContext) =>
        new Promise<JsonValue>((resolve) => {
          ctx.signal.addEventListener("abort", () => {
            reasons.set(task.taskId, ctx.signal.reason);
            resolve("ignored the cancel"); // too late: the attempt already ended
          });
        }),
    });
    core.accept([job("run", 4), job("queued", 2)]);
    await until(() => core.load === 1);
    // A cancel below the running attempt's fence is for an older attempt: nothing happens.
    expect(core.cancel([{ task_id: "run", fence: 4 }])).toBe(0);
    expect(core.cancel([{ task_id: "queued", fence: 3 }])).toBe(1);
    expect(core.cancel([{ task_id: "run", fence: 5 }])).toBe(1);
    await until(() => outcomes.length === 2);
    expect(outcomes.map((o) => [o.task_id, o.status, o.error])).toEqual([
      ["queued", "failed", "canceled by client"],
      ["run", "failed", "canceled by client"],
    ]);
    const reason = reasons.get("run") as Error & { code: string };
    expect(reason.message).toBe("canceled by client");
    expect(reason.code).toBe("ERR_TASK_CANCELED");
    expect(reasons.has("queued")).toBe(false); // never started
    expect(core.load).toBe(0);
    core.stop();
  });
});
