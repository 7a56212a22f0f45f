import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type CheckpointTransfer,
  RedisClient,
  RelayCheckpointSaver,
  runGraphTask,
  StoreCheckpointSaver,
  Task,
} from "../../../src/index.js";
import { testRedis, uniquePrefix } from "../../helpers/redis-server.js";

/**
 * A task graph survives its worker: the worker's RelayCheckpointSaver sends each checkpoint to
 * the "distributor" (a StoreCheckpointSaver on memory:// or Redis), the worker dies during
 * step three, and a new worker seeded from the store finishes the graph without running the
 * completed steps again. (The multi-process version runs with the agents.)
 */
let redisUrl = "";
let closeRedis: () => Promise<void> = async () => {};
const clients: RedisClient[] = [];
beforeAll(async () => {
  const r = await testRedis();
  redisUrl = r.url;
  closeRedis = r.close;
});
afterAll(async () => {
  for (const c of clients) await c.disconnect();
  await closeRedis();
});

const State = Annotation.Root({
  n: Annotation<number>,
  steps: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

type Counters = { one: number; two: number; three: number };

/** Three steps with side-effect counters; `three` is the step during which the worker dies. */
function threeStepGraph(counters: Counters, three: (s: typeof State.State) => Promise<typeof State.Update>) {
  return new StateGraph(State)
    .addNode("one", (s) => {
      counters.one++;
      return { n: s.n + 1, steps: ["one"] };
    })
    .addNode("two", (s) => {
      counters.two++;
      return { n: s.n * 10, steps: ["two"] };
    })
    .addNode("three", async (s) => {
      counters.three++;
      return three(s);
    })
    .addEdge(START, "one")
    .addEdge("one", "two")
    .addEdge("two", "three")
    .addEdge("three", END)
    .compile();
}

/** The distributor's side: store what a worker sends under its fencing token, refuse stale senders. */
function distributorSink(store: StoreCheckpointSaver, taskId: string, token: number, alive: () => boolean) {
  return async (transfer: CheckpointTransfer) => {
    if (!alive()) throw new Error("process killed"); // a dead process sends nothing more
    const wire = JSON.parse(JSON.stringify(transfer)); // what an A2A message would carry
    if (!(await store.importTransfer(wire, { threadId: taskId, fencingToken: token }))) {
      throw new Error("fenced: this task was reassigned");
    }
  };
}

describe.each([
  { name: "memory://", url: () => `memory://durable-${process.pid}` },
  { name: "Redis", url: () => redisUrl },
])("a three-step task graph on $name", ({ url }) => {
  let store: StoreCheckpointSaver;
  beforeAll(async () => {
    const client = new RedisClient({ url: url(), keyPrefix: uniquePrefix("durable") });
    expect(await client.connect()).toBe(true);
    clients.push(client);
    store = new StoreCheckpointSaver(client);
  });

  async function resumeOnNewWorker(graph: ReturnType<typeof threeStepGraph>, task: Task) {
    expect(await store.fenceThread(task.taskId, 2)).toBe(true);
    const seed = await store.exportThread(task.taskId);
    expect(seed.length).toBeGreaterThan(0);
    const relay = new RelayCheckpointSaver({
      sink: distributorSink(store, task.taskId, 2, () => true),
      seed,
    });
    return runGraphTask(graph, task, { checkpointer: relay });
  }

  it("resumes after step three throws 'process killed': steps one and two ran once", async () => {
    const counters: Counters = { one: 0, two: 0, three: 0 };
    let killed = false;
    const graph = threeStepGraph(counters, async (s) => {
      if (!killed) {
        killed = true;
        throw new Error("process killed");
      }
      return { n: s.n + 3, steps: ["three"] };
    });
    const task = new Task({
      taskId: `task-${Math.random().toString(36).slice(2)}`,
      taskType: "graph",
      payload: { n: 1 },
    });
    const first = new RelayCheckpointSaver({ sink: distributorSink(store, task.taskId, 1, () => true) });
    await expect(runGraphTask(graph, task, { checkpointer: first })).rejects.toThrow("process killed");
    expect(counters).toEqual({ one: 1, two: 1, three: 1 });

    const result = await resumeOnNewWorker(graph, task);
    expect(counters).toEqual({ one: 1, two: 1, three: 2 });
    expect(result).toEqual({ n: 23, steps: ["one", "two", "three"] });
  });

  it("resumes after the worker dies silently in step three (aborted, nothing more sent)", async () => {
    const counters: Counters = { one: 0, two: 0, three: 0 };
    let alive = true;
    const abort = new AbortController();
    let firstAttempt = true;
    const graph = threeStepGraph(counters, async (s) => {
      if (firstAttempt) {
        firstAttempt = false;
        alive = false; // the process is gone: from here on it sends nothing
        abort.abort(new Error("SIGKILL"));
        await new Promise(() => {}); // and never finishes the step
      }
      return { n: s.n + 3, steps: ["three"] };
    });
    const task = new Task({
      taskId: `task-${Math.random().toString(36).slice(2)}`,
      taskType: "graph",
      payload: { n: 4 },
    });
    const first = new RelayCheckpointSaver({ sink: distributorSink(store, task.taskId, 1, () => alive) });
    await expect(runGraphTask(graph, task, { checkpointer: first, signal: abort.signal })).rejects.toThrow();
    expect(counters).toEqual({ one: 1, two: 1, three: 1 });

    const result = await resumeOnNewWorker(graph, task);
    expect(counters).toEqual({ one: 1, two: 1, three: 2 });
    expect(result).toEqual({ n: 53, steps: ["one", "two", "three"] });
    // the distributor's head is the finished run
    const head = await store.getTuple({ configurable: { thread_id: task.taskId } });
    expect(head?.checkpoint.channel_values).toMatchObject({ n: 53 });
  });

  it("keeps the finished half of a parallel step: only the branch that died runs again", async () => {
    const runs = { start: 0, left: 0, right: 0 };
    let killed = false;
    const Fan = Annotation.Root({
      seen: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
    });
    const graph = new StateGraph(Fan)
      .addNode("start", () => {
        runs.start++;
        return { seen: ["start"] };
      })
      .addNode("left", () => {
        runs.left++;
        return { seen: ["left"] };
      })
      .addNode("right", async () => {
        runs.right++;
        await new Promise((r) => setTimeout(r, 20)); // left has reported by now
        if (!killed) {
          killed = true;
          throw new Error("process killed");
        }
        return { seen: ["right"] };
      })
      .addEdge(START, "start")
      .addEdge("start", "left")
      .addEdge("start", "right")
      .addEdge("left", END)
      .addEdge("right", END)
      .compile();
    const task = new Task({ taskId: `task-${Math.random().toString(36).slice(2)}`, taskType: "graph" });
    const first = new RelayCheckpointSaver({ sink: distributorSink(store, task.taskId, 1, () => true) });
    await expect(runGraphTask(graph, task, { checkpointer: first })).rejects.toThrow("process killed");
    expect(await store.fenceThread(task.taskId, 2)).toBe(true);
    const seed = await store.exportThread(task.taskId);
    const relay = new RelayCheckpointSaver({
      sink: distributorSink(store, task.taskId, 2, () => true),
      seed,
    });
    const result = (await runGraphTask(graph, task, { checkpointer: relay })) as { seen: string[] };
    expect(runs).toEqual({ start: 1, left: 1, right: 2 });
    expect([...result.seen].sort()).toEqual(["left", "right", "start"]);
  });
});
