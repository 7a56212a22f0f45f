import { afterEach, describe, expect, it, vi } from "vitest";
import type { HandlerContext, HandlerTask } from "../../../src/agents/worker/task-runner.js";
import type { JsonValue } from "../../../src/core/json.js";
import { dispatched, workerCoreFor } from "../../helpers/worker-core-for.js";

/**
 * A stopped worker fires nothing later: each attempt still running is let go at the stop, its
 * timeout timer cleared, its handler not told (as when the process exits: the task runs again
 * elsewhere), and an attempt queued behind it is not started. Before, a stopped worker's attempt
 * timed out 10 s on, into the handler of a test long over (progress-and-cancel read that timeout
 * as the next engine's cancel reason).
 */

const job = (id: string) => dispatched(id, "hang");

describe("WorkerCore.stop", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("lets the running attempts go: no timer outlives the stop, nothing queued starts", async () => {
    vi.useFakeTimers();
    const started: string[] = [];
    const reasons = new Map<string, unknown>();
    const { core, sent } = workerCoreFor({
      capacity: 1,
      resendMs: 1000,
      // A handler that never settles by itself: it only notes why its signal fired.
      handler: (task: HandlerTask, ctx: HandlerContext) => {
        started.push(task.taskId);
        ctx.signal.addEventListener("abort", () => reasons.set(task.taskId, ctx.signal.reason));
        return new Promise<JsonValue>(() => {});
      },
    });
    core.accept([job("running"), job("queued")]);
    expect(started).toEqual(["running"]);
    expect(core.load).toBe(1);

    core.stop();
    // The attempt's promise settles on the stop (microtasks): its slot is free, no timer is left.
    await vi.advanceTimersByTimeAsync(0);
    expect(core.load).toBe(0);
    expect(vi.getTimerCount()).toBe(0);

    // Well past the attempt's timeout: nothing fires, nothing more starts, nothing is sent.
    await vi.advanceTimersByTimeAsync(60_000);
    expect(started).toEqual(["running"]);
    expect([...reasons]).toEqual([]); // the handler's signal never fired: no timeout, no cancel
    expect(sent).toEqual([]);
    // The queued attempt is still listed (the last heartbeat tells the distributor of it).
    expect(core.heartbeat(null, ["hang"]).running).toEqual([{ task_id: "queued", fence: 1 }]);
  });
});
