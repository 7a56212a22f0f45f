import { describe, expect, it } from "vitest";
import type { HandlerContext, JsonValue, Task, TaskHandler } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { httpTriad } from "../../helpers/http-triad.js";
import { until } from "../../helpers/wait.js";

/**
 * Answers that add up past what a message can carry. Between processes a task goes to its
 * distributor in one message of at most the body limit, and every answer joins the task's
 * `inputs`: each answer small enough on its own, together they made a task that could no longer
 * be sent, and the answer that did it was taken (202) and the task then abandoned ("cannot be
 * sent to distributor"), the answers given before it lost with it. Such an answer is now refused
 * (ERR_INPUT_TOO_LARGE, 413) and the task keeps waiting for a smaller one.
 */

const BODY_LIMIT = 64 * 1024;

/** Asks three questions, then answers with the length of each input. */
const threeQuestions = (_task: Task, ctx: HandlerContext): JsonValue => {
  if (ctx.inputs.length < 3) ctx.requestInput({ question: ctx.inputs.length });
  return { lengths: ctx.inputs.map((v) => JSON.stringify(v).length) };
};

describe.each(testEngines("input-size", { cluster: true }))("answers that add up on $name", (engine) => {
  // The engine's set-up and tear-down; the agents here are over HTTP (httpTriad), not a TestCluster.
  clusterPerTest(engine);

  it("an answer that would make its task too large to send is refused, and the task still waits", async () => {
    const triad = await httpTriad({
      redis: engine.config(),
      secret: "input-size-secret",
      maxBodyBytes: BODY_LIMIT,
      handlers: { ask: threeQuestions } as Record<string, TaskHandler<Task>>,
    });
    try {
      const { run, coordinator: c } = triad;
      const id = `asks-${run}`;
      await c.submitTask({ task_id: id, task_type: "ask", payload: {} });
      const asked = (n: number) =>
        until(
          `question ${n} is asked`,
          async () => {
            const t = await c.core.getTask(id);
            return t?.status === "input_required" && (t.inputs?.length ?? 0) === n;
          },
          10_000,
        );
      await asked(0);
      expect(await c.provideInput(id, "a".repeat(40 * 1024))).toBe(true);
      await asked(1);
      // 30 KB more is under the limit alone, but not with the 40 KB given before.
      const refused = await c.provideInput(id, "b".repeat(30 * 1024)).catch((err: unknown) => err);
      expect(refused).toMatchObject({ code: "ERR_INPUT_TOO_LARGE", details: { status: 413 } });
      expect((refused as Error).message).toMatch(/it was not given, and the task still waits for input/);
      expect(await c.core.getTask(id)).toMatchObject({
        status: "input_required",
        input_request: { question: 1 },
      });
      // A smaller answer is taken, and the task runs on with everything it was given.
      expect(await c.provideInput(id, "small")).toBe(true);
      await asked(2);
      expect(await c.provideInput(id, { also: "small" })).toBe(true);
      expect(await c.waitForTask(id, 10_000)).toMatchObject({
        status: "completed",
        result: { lengths: [40 * 1024 + 2, 7, 16] },
      });
    } finally {
      await triad.cleanup();
    }
  }, 40_000);
});
