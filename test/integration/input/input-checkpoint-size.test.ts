import { Annotation, END, interrupt, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import type { Task, TaskHandler } from "../../../src/index.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { httpTriad } from "../../helpers/http-triad.js";
import { until } from "../../helpers/wait.js";

/**
 * A graph's checkpoint counts toward what an answer may make its task carry. A graph task's
 * next attempt goes to its worker in one message with its stored checkpoint and every input
 * given: the size check of an answer (ERR_INPUT_TOO_LARGE) counted the task's record alone, so
 * a graph holding 40 KB of state took a 30 KB answer (202) and then ended abandoned ("cannot be
 * sent") under a 64 KB body limit. Such an answer is now refused, and the task keeps waiting.
 */

const BODY_LIMIT = 64 * 1024;

/** Builds 40 KB of state, then asks a question; its result is the answer's length. */
function bigStateGraph() {
  const State = Annotation.Root({
    notes: Annotation<string>({ reducer: (_a, b) => b, default: () => "" }),
    answer: Annotation<number>({ reducer: (_a, b) => b, default: () => 0 }),
  });
  return new StateGraph(State)
    .addNode("gather", () => ({ notes: "n".repeat(40 * 1024) }))
    .addNode("ask", () => ({ answer: (interrupt({ question: "go on?" }) as string).length }))
    .addEdge(START, "gather")
    .addEdge("gather", "ask")
    .addEdge("ask", END)
    .compile();
}

describe.each(testEngines("input-checkpoint-size"))(
  "a graph's checkpoint and its answers on $name",
  (engine) => {
    clusterPerTest(engine);

    it("an answer that would make a graph task too large to send with its checkpoint is refused, and the task still waits", async () => {
      const triad = await httpTriad({
        redis: engine.config(),
        secret: "input-checkpoint-size-secret",
        maxBodyBytes: BODY_LIMIT,
        handlers: { big: bigStateGraph() } as unknown as Record<string, TaskHandler<Task>>,
      });
      try {
        const { run, coordinator: c } = triad;
        const id = `big-${run}`;
        await c.submitTask({ task_id: id, task_type: "big", payload: {} });
        await until(
          "the graph asks",
          async () => (await c.core.getTask(id))?.status === "input_required",
          10_000,
        );
        // 30 KB is under the limit alone, and the record is small: not with the 40 KB checkpoint.
        const refused = await c.provideInput(id, "b".repeat(30 * 1024)).catch((err: unknown) => err);
        expect(refused).toMatchObject({ code: "ERR_INPUT_TOO_LARGE", details: { status: 413 } });
        expect((refused as Error).message).toMatch(/with its graph checkpoint \(\d+ bytes\)/);
        expect(await c.core.getTask(id)).toMatchObject({
          status: "input_required",
          input_request: { question: "go on?" },
        });
        // A smaller answer is taken, and the graph resumes from its checkpoint.
        expect(await c.provideInput(id, "yes")).toBe(true);
        expect(await c.waitForTask(id, 10_000)).toMatchObject({ status: "completed", result: { answer: 3 } });
      } finally {
        await triad.cleanup();
      }
    }, 40_000);
  },
);
