import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HandlerContext, JsonValue, Task } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * POST /tasks/:id/input naming a question other than the one the task asks now: 409, saying
 * whether that question was answered already (one before) or is not asked yet (one ahead).
 */

/** Asks twice, then answers with what it was given. */
const twoQuestions = (_task: Task, ctx: HandlerContext): JsonValue => {
  if (ctx.inputs.length < 2) ctx.requestInput({ question: ctx.inputs.length });
  return { answers: ctx.inputs };
};

describe("POST /tasks/:id/input with another question's number", () => {
  let cluster: TestCluster;
  let server: RunningServer;

  beforeAll(async () => {
    cluster = new TestCluster(
      { url: `memory://input-question-${process.pid}` },
      { handlers: { two_questions: twoQuestions } },
    );
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  const answer = async (id: string, question: number, value: JsonValue) => {
    const res = await fetch(`${server.url}/tasks/${id}/input`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ value, question }),
    });
    return { status: res.status, body: (await res.json()) as { error?: { code: string; message: string } } };
  };
  const asking = (id: string, inputs: number) =>
    until(
      `task ${id} asks question ${inputs}`,
      async () => {
        const t = (await (await fetch(`${server.url}/tasks/${id}`)).json()) as {
          status: string;
          inputs?: unknown[];
        };
        return t.status === "input_required" && (t.inputs?.length ?? 0) === inputs;
      },
      10_000,
    );

  it("one ahead of the current: 'not asked yet'; one before: 'answered already'", async () => {
    const id = "nm";
    await cluster.coordinator.submitTask({ task_id: id, task_type: "two_questions", payload: {} });
    await asking(id, 0);

    const ahead = await answer(id, 3, "too soon");
    expect(ahead.status).toBe(409);
    expect(ahead.body.error).toEqual({
      code: "ERR_NOT_WAITING_FOR_INPUT",
      message: "task nm asks question 0 now, not question 3: that one is not asked yet",
    });

    expect((await answer(id, 0, "first")).status).toBe(202);
    await asking(id, 1);
    const before = await answer(id, 0, "again");
    expect(before.status).toBe(409);
    expect(before.body.error).toEqual({
      code: "ERR_NOT_WAITING_FOR_INPUT",
      message: "task nm asks question 1 now, not question 0: that one was answered already",
    });
    const ahead2 = await answer(id, 2, "too soon");
    expect(ahead2.body.error?.message).toBe(
      "task nm asks question 1 now, not question 2: that one is not asked yet",
    );
  });
});
