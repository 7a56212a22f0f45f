import { describe, expect, it } from "vitest";
import {
  CoordinatorAgent,
  DistributorAgent,
  type HandlerContext,
  type JsonValue,
  type Task,
  type TaskHandler,
  WorkerAgent,
} from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
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
  // The engine's set-up and tear-down; the agents here are over HTTP, not a TestCluster.
  clusterPerTest(engine);

  it("an answer that would make its task too large to send is refused, and the task still waits", async () => {
    const run = Math.random().toString(36).slice(2, 7);
    const redis = engine.config();
    const a2a = (agentId: string) => ({
      agentId,
      tokenSecret: "input-size-secret",
      agentPort: 0,
      host: "127.0.0.1",
      router: null,
      maxBodyBytes: BODY_LIMIT,
    });
    const agents: Array<{ cleanup(): Promise<void> }> = [];
    try {
      const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: a2a(`c-${run}`), timing: FAST });
      agents.push(c);
      await c.initialize();
      const d = new DistributorAgent({
        agentId: `d-${run}`,
        coordinatorId: c.agentId,
        coordinatorUrl: c.url!,
        redis,
        a2a: a2a(`d-${run}`),
        timing: FAST,
      });
      agents.push(d);
      await d.initialize();
      const w = new WorkerAgent({
        agentId: `w-${run}`,
        distributorId: d.agentId,
        distributorUrl: d.a2a.url!,
        a2a: a2a(`w-${run}`),
        timing: FAST,
        handlers: { ask: threeQuestions } as Record<string, TaskHandler<Task>>,
      });
      agents.push(w);
      await w.initialize();
      await until(
        "the coordinator knows the worker",
        () => (c.core.directory.get(d.agentId)?.workers.length ?? 0) > 0,
        10_000,
      );

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
      for (const a of agents.reverse()) await a.cleanup().catch(() => {});
    }
  }, 40_000);
});
