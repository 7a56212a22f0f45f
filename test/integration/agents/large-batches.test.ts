import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorAgent } from "../../../src/index.js";
import { type HttpTriad, httpTriad } from "../../helpers/http-triad.js";

/**
 * Over HTTP a message may not be larger than its peer's body limit. Tasks are batched by count
 * (up to 200 a message), so large payloads made batches over the limit: the send was refused
 * before it left, swallowed, and the batch — every task in it — was sent again for ever. A batch
 * too large for its peer now goes in halves; a task that no message can carry on its own ends
 * (abandoned, or failed for a result), alone and with the reason.
 */

const BODY_LIMIT = 64 * 1024;

describe("batches larger than the peer takes, over HTTP", () => {
  let triad: HttpTriad | undefined;
  let coordinator: CoordinatorAgent;
  const run = Math.random().toString(36).slice(2, 7);

  beforeAll(async () => {
    triad = await httpTriad({
      redis: { url: `memory://large-batches-${process.pid}-${run}` },
      secret: "large-batches-secret",
      maxBodyBytes: BODY_LIMIT,
      handlers: { big_result: () => "r".repeat(BODY_LIMIT * 2) },
      coordinator: { retry: { default: { maxRetries: 0, backoffMs: 0 } } },
      worker: { concurrency: 64 },
    });
    coordinator = triad.coordinator;
  }, 30_000);

  afterAll(async () => {
    await triad?.cleanup();
  });

  it("sends a batch too large for one message in parts; only a task too large alone ends, with the reason", async () => {
    // 40 tasks of 6 KB: about 240 KB in one assign_tasks, four times the limit.
    const ok = Array.from({ length: 40 }, (_, i) => ({
      task_id: `ok-${run}-${i}`,
      task_type: "echo",
      payload: { i, text: "p".repeat(6 * 1024) },
    }));
    const huge = { task_id: `huge-${run}`, task_type: "echo", payload: { text: "h".repeat(BODY_LIMIT * 2) } };
    const bigResult = { task_id: `big-result-${run}`, task_type: "big_result", payload: {} };
    const all = [...ok.slice(0, 20), huge, bigResult, ...ok.slice(20)];
    await coordinator.submitTasks(all);
    const done = await Promise.all(all.map((t) => coordinator.waitForTask(t.task_id, 15_000)));
    const byId = new Map(done.map((t, i) => [all[i]!.task_id, t]));
    for (const t of ok) expect(byId.get(t.task_id)).toMatchObject({ status: "completed", result: t.payload });
    expect(byId.get(huge.task_id)).toMatchObject({
      status: "abandoned",
      error: expect.stringMatching(/^cannot be sent to distributor .*over the body limit of 65536/),
    });
    expect(byId.get(bigResult.task_id)).toMatchObject({
      status: "failed",
      error: expect.stringMatching(
        /^the outcome of the attempt cannot be sent: .*over the body limit of 65536/,
      ),
    });
  }, 30_000);
});
