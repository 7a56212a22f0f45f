import { RunnableLambda } from "@langchain/core/runnables";
import { Annotation, END, MemorySaver, START, StateGraph } from "@langchain/langgraph";
import { describe, expect, it } from "vitest";
import {
  isGraphTaskHandler,
  isTriadError,
  RelayCheckpointSaver,
  runGraphTask,
  Task,
  toJsonResult,
} from "../../../src/index.js";

const Sum = Annotation.Root({
  values: Annotation<number[]>,
  total: Annotation<number>,
  note: Annotation<string | undefined>,
  at: Annotation<Date>,
});

function sumGraph(counter: { runs: number }) {
  return new StateGraph(Sum)
    .addNode("sum", (s) => {
      counter.runs++;
      return { total: s.values.reduce((a, b) => a + b, 0), at: new Date(0) };
    })
    .addEdge(START, "sum")
    .addEdge("sum", END);
}

describe("runGraphTask", () => {
  it("invokes the graph with the task's payload; its final state, made JSON, is the result", async () => {
    const counter = { runs: 0 };
    const task = new Task({ taskId: "t1", taskType: "sum", payload: { values: [1, 2, 3.5] } });
    const result = await runGraphTask(sumGraph(counter).compile(), task);
    // `note` was never written (undefined): left out, as JSON.stringify does; the Date is ISO text
    expect(result).toEqual({ values: [1, 2, 3.5], total: 6.5, at: "1970-01-01T00:00:00.000Z" });
    expect(counter.runs).toBe(1);
  });

  it("fails with ERR_RESULT_NOT_JSON, naming the field, when the final state cannot be JSON", async () => {
    const graph = new StateGraph(Sum)
      .addNode("sum", () => ({ total: Number.NaN }))
      .addEdge(START, "sum")
      .addEdge("sum", END)
      .compile();
    const task = new Task({ taskId: "t2", taskType: "sum", payload: { values: [] } });
    await expect(runGraphTask(graph, task)).rejects.toSatisfy(
      (e: unknown) =>
        isTriadError(e, "ERR_RESULT_NOT_JSON") && /result of task t2\.total: NaN/.test(String(e)),
    );
  });

  it("fails with what a node threw when it threw a string, a number or null, not LangGraph's pregelTaskId TypeError", async () => {
    for (const [thrown, said] of [
      ["boom", 'a graph node threw "boom"'],
      [42, "a graph node threw 42"],
      [null, "a graph node threw null"],
    ] as const) {
      for (const checkpointer of [undefined, new MemorySaver()]) {
        const graph = new StateGraph(Sum)
          .addNode("sum", () => {
            throw thrown;
          })
          .addEdge(START, "sum")
          .addEdge("sum", END)
          .compile(checkpointer === undefined ? {} : { checkpointer });
        const task = new Task({ taskId: "t-throw", taskType: "sum", payload: { values: [] } });
        await expect(runGraphTask(graph, task)).rejects.toThrow(said);
      }
    }
  });

  it("uses the task id as thread id: a graph with its own checkpointer resumes a failed run", async () => {
    let attempts = 0;
    const ran: string[] = [];
    const State = Annotation.Root({
      log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(State)
      .addNode("a", () => {
        ran.push("a");
        return { log: ["a"] };
      })
      .addNode("b", () => {
        ran.push("b");
        if (++attempts === 1) throw new Error("flaky");
        return { log: ["b"] };
      })
      .addEdge(START, "a")
      .addEdge("a", "b")
      .addEdge("b", END)
      .compile({ checkpointer: new MemorySaver() });
    const task = new Task({ taskId: "t3", taskType: "flow" });
    await expect(runGraphTask(graph, task)).rejects.toThrow("flaky");
    expect(await runGraphTask(graph, task)).toEqual({ log: ["a", "b"] });
    expect(ran).toEqual(["a", "b", "b"]);
    // a finished thread run again (a duplicate delivery) gives the same result and runs nothing
    expect(await runGraphTask(graph, task)).toEqual({ log: ["a", "b"] });
    expect(ran).toEqual(["a", "b", "b"]);
  });

  it("lends its checkpointer to a graph compiled without one", async () => {
    const counter = { runs: 0 };
    const sent: string[] = [];
    const relay = new RelayCheckpointSaver({ sink: (t) => void sent.push(t.kind) });
    const task = new Task({ taskId: "t4", taskType: "sum", payload: { values: [2] } });
    expect(await runGraphTask(sumGraph(counter).compile(), task, { checkpointer: relay })).toMatchObject({
      total: 2,
    });
    expect(sent).toContain("checkpoint");
    expect(
      (await relay.getTuple({ configurable: { thread_id: "t4" } }))?.checkpoint.channel_values,
    ).toMatchObject({
      total: 2,
    });
  });

  it("never checkpoints a graph compiled with checkpointer: false", async () => {
    const counter = { runs: 0 };
    const sent: string[] = [];
    const relay = new RelayCheckpointSaver({ sink: (t) => void sent.push(t.kind) });
    const graph = sumGraph(counter).compile({ checkpointer: false });
    const task = new Task({ taskId: "t5", taskType: "sum", payload: { values: [1] } });
    await runGraphTask(graph, task, { checkpointer: relay });
    await runGraphTask(graph, task, { checkpointer: relay });
    expect(sent).toEqual([]);
    expect(counter.runs).toBe(2);
  });

  it("takes any runnable with invoke(), not only graphs", async () => {
    const double = RunnableLambda.from((p: { x: number }) => ({ doubled: p.x * 2 }));
    expect(isGraphTaskHandler(double)).toBe(true);
    expect(isGraphTaskHandler(() => 1)).toBe(false);
    expect(isGraphTaskHandler(null)).toBe(false);
    const task = new Task({ taskId: "t6", taskType: "double", payload: { x: 21 } });
    expect(await runGraphTask(double, task)).toEqual({ doubled: 42 });
  });
});

describe("toJsonResult", () => {
  it("writes what JSON.stringify would, where that is faithful", () => {
    const value = { a: 1, b: undefined, c: [1, undefined, "x"], d: { toJSON: () => "custom" }, e: null };
    expect(toJsonResult(value)).toEqual(JSON.parse(JSON.stringify(value)));
    expect(toJsonResult(undefined)).toBeNull();
  });

  it("refuses what JSON.stringify would silently corrupt, with the path", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: [unknown, RegExp][] = [
      [{ x: Number.POSITIVE_INFINITY }, /result\.x: Infinity/],
      [{ m: new Map([["a", 1]]) }, /result\.m: a Map is not JSON/],
      [[new Set([1])], /result\[0\]: a Set/],
      [{ f: () => 1 }, /result\.f: a function/],
      [{ n: 10n }, /result\.n: a bigint/],
      [cyclic, /cycle/],
    ];
    for (const [value, message] of cases) {
      expect(() => toJsonResult(value)).toThrow(message);
    }
    // a value seen twice without a cycle is fine
    const shared = { k: 1 };
    expect(toJsonResult({ a: shared, b: shared })).toEqual({ a: { k: 1 }, b: { k: 1 } });
  });
});
