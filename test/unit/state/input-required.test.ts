import { Annotation, END, interrupt, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import { type InputRequired, isInputRequired, runGraphTask, Task, TaskStatus } from "../../../src/index.js";

/**
 * Waiting for input at the core (SPEC "Waiting for input"): the task dict's input keys, and how
 * runGraphTask turns an interrupt into InputRequired and resumes exactly the interrupt answered.
 */

describe("a task's input keys", () => {
  it("are absent from a seed-shaped dict, and round-trip when used", () => {
    expect(Object.keys(new Task({ taskId: "t", taskType: "echo" }).toDict())).not.toContain("input_request");
    const waiting = Task.fromDict({
      task_id: "t",
      task_type: "approval",
      status: "input_required",
      input_request: { question: "ok?" },
      input_timeout_ms: 60_000,
      inputs: ["yes", { n: 2 }],
    });
    expect(waiting.status).toBe(TaskStatus.INPUT_REQUIRED);
    expect(waiting.isTerminal).toBe(false);
    expect(Task.fromDict(waiting.toDict()).toDict()).toMatchObject({
      input_request: { question: "ok?" },
      input_timeout_ms: 60_000,
      inputs: ["yes", { n: 2 }],
    });
  });

  it("refuse an input_timeout_ms that is not a positive integer, naming it", () => {
    for (const bad of [0, -5, 1.5, "1000"]) {
      expect(() => Task.fromDict({ task_id: "t", task_type: "x", input_timeout_ms: bad })).toThrow(
        /input_timeout_ms/,
      );
    }
  });
});

describe("runGraphTask and interrupt()", () => {
  const State = Annotation.Root({
    log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const graph = (runs: string[]) =>
    new StateGraph(State)
      .addNode("first", () => {
        runs.push("first");
        return { log: ["first"] };
      })
      .addNode("ask", () => {
        runs.push("ask");
        return { log: [`answer:${interrupt({ q: "which?" }) as string}`] };
      })
      .addEdge(START, "first")
      .addEdge("first", "ask")
      .addEdge("ask", END)
      .compile();
  const asked = async (run: Promise<unknown>): Promise<InputRequired> => {
    const err = await run.then(
      () => null,
      (e: unknown) => e,
    );
    expect(isInputRequired(err)).toBe(true);
    return err as InputRequired;
  };

  it("an interrupt is InputRequired with its value and id; the answer for that id resumes it, once", async () => {
    const runs: string[] = [];
    const saver = new MemorySaver();
    const task = { taskId: "g1", payload: {} };
    const request = await asked(runGraphTask(graph(runs), task, { checkpointer: saver }));
    expect(request.request).toEqual({ q: "which?" });
    expect(request.key).toMatch(/^[0-9a-f]{32}$/);
    // No answer for it (or an answer to another question): asked again, nothing runs.
    const again = await asked(runGraphTask(graph(runs), task, { checkpointer: saver }));
    expect(again.key).toBe(request.key);
    await asked(
      runGraphTask(graph(runs), task, { checkpointer: saver, resume: { key: "0".repeat(32), value: "x" } }),
    );
    expect(runs).toEqual(["first", "ask"]);
    const done = await runGraphTask(graph(runs), task, {
      checkpointer: saver,
      resume: { key: request.key, value: "B" },
    });
    expect(done).toEqual({ log: ["first", "answer:B"] });
    expect(runs).toEqual(["first", "ask", "ask"]); // the step before the interrupt did not run again
  });

  it("an interrupt() with no value asks with a null request (as ctx.requestInput() does)", async () => {
    const bare = new StateGraph(State)
      .addNode("ask", () => ({ log: [`answer:${interrupt(undefined) as string}`] }))
      .addEdge(START, "ask")
      .addEdge("ask", END)
      .compile();
    const task = { taskId: "g2", payload: {} };
    const saver = new MemorySaver();
    const request = await asked(runGraphTask(bare, task, { checkpointer: saver }));
    expect(request.request).toBeNull();
    const done = await runGraphTask(bare, task, {
      checkpointer: saver,
      resume: { key: request.key, value: "C" },
    });
    expect(done).toEqual({ log: ["answer:C"] });
  });
});
