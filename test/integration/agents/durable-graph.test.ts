import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskHandler } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * Durable task graphs: a worker dies after step two of a three-step graph; the task is
 * reassigned and the new worker resumes from the checkpoint the distributor stored, so steps
 * one and two ran once each.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function threeSteps(sideEffects: Record<string, number>) {
  const State = Annotation.Root({
    log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    n: Annotation<number>,
  });
  const step =
    (name: string, work: () => Promise<unknown> = async () => {}) =>
    async (s: typeof State.State) => {
      await work();
      sideEffects[name] = (sideEffects[name] ?? 0) + 1;
      return { log: [name], n: (s.n ?? 0) + 1 };
    };
  let third = 0;
  return (
    new StateGraph(State)
      .addNode("one", step("one"))
      .addNode("two", step("two"))
      // The first run of step three is slow: the worker dies in the middle of it.
      .addNode(
        "three",
        step("three", async () => sleep(third++ === 0 ? 5000 : 10)),
      )
      .addEdge(START, "one")
      .addEdge("one", "two")
      .addEdge("two", "three")
      .addEdge("three", END)
      .compile()
  );
}

describe.each(testEngines("durable"))("durable task graphs on $name", (engine) => {
  let cluster: TestCluster | undefined;
  beforeAll(() => engine.setup());
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());

  it("a graph whose worker dies after step two resumes on another worker without re-running steps one and two", async () => {
    const effects: Record<string, number> = {};
    const graph = threeSteps(effects) as unknown as TaskHandler<Task>;
    cluster = new TestCluster(engine.config(), { handlers: { three_steps: graph } });
    const d1 = await cluster.startOne();
    const doomed = cluster.workers.get("w1")!;
    const id = cluster.id("graph-task");
    await cluster.coordinator.submitTask({ task_id: id, task_type: "three_steps", payload: { n: 0 } });
    // Step two has run and its checkpoint has reached the distributor's store.
    await until("step two's checkpoint is stored", async () => {
      const saved = await d1.checkpoints.getTuple({ configurable: { thread_id: id, checkpoint_ns: "" } });
      return ((saved?.checkpoint.channel_values.log ?? []) as string[]).includes("two");
    });
    await cluster.crash(doomed);
    await cluster.startWorker("w2", "d1");
    const done = await cluster.coordinator.waitForTask(id, 15_000);
    expect(done).toMatchObject({ status: "completed", assigned_to: cluster.id("w2") });
    expect(done?.result).toMatchObject({ log: ["one", "two", "three"], n: 3 });
    expect(effects).toEqual({ one: 1, two: 1, three: 1 });
  });
});
