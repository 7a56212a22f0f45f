import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import {
  A2ARouter,
  CoordinatorAgent,
  DistributorAgent,
  dropMemoryServer,
  RedisClient,
  type Task,
  type TaskHandler,
  WorkerAgent,
} from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";

/**
 * The embedded store holds every record in this process's memory, and finished records stay for
 * their retention (24 h): a steady stream of tasks grew the heap without end (~0.8 KB a task,
 * 64 -> 295 MB over 300,000). memory:// now keeps at most `memoryMaxFinished` finished records,
 * dropping the oldest first; a record whose dependents have not all heard of its end yet is kept,
 * and counted among the finished once they have (with its set of dependents).
 */

const KEEP = 20;

/** A graph of one step: its checkpoints go to the distributor. */
const State = Annotation.Root({ n: Annotation<number> });
const oneStep = new StateGraph(State)
  .addNode("step", (s: typeof State.State) => ({ n: (s.n ?? 0) + 1 }))
  .addEdge(START, "step")
  .addEdge("step", END)
  .compile() as unknown as TaskHandler<Task>;

describe("memory:// keeps at most memoryMaxFinished finished records", () => {
  const name = `finished-bound-${process.pid}`;
  const redis = { url: `memory://${name}`, memoryMaxFinished: KEEP };
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  let coordinator: CoordinatorAgent;
  let distributor: DistributorAgent;
  const store = new RedisClient({ url: `memory://${name}` });
  const ledger = new TaskLedger(store);

  beforeAll(async () => {
    const router = new A2ARouter();
    coordinator = new CoordinatorAgent({ agentId: "c", redis, a2a: { router }, timing: FAST });
    agents.push(coordinator);
    await coordinator.initialize();
    distributor = new DistributorAgent({
      agentId: "d",
      coordinatorId: "c",
      redis,
      a2a: { router },
      timing: FAST,
    });
    agents.push(distributor);
    await distributor.initialize();
    const worker = new WorkerAgent({ agentId: "w", distributorId: "d", a2a: { router }, timing: FAST });
    worker.registerTaskHandler("one_step", oneStep);
    agents.push(worker);
    await worker.initialize();
    await store.connect();
    const deadline = performance.now() + 10_000;
    while (!coordinator.core.directory.get("d")?.workers.length) {
      if (performance.now() > deadline) throw new Error("the cluster did not become ready");
      await new Promise((r) => setTimeout(r, 20));
    }
  }, 30_000);

  afterAll(async () => {
    for (const a of agents.reverse()) await a.cleanup().catch(() => {});
    await store.disconnect();
    dropMemoryServer(name);
  });

  it("drops the oldest finished records first, a record with dependents once they heard of its end, and a dropped id can be sent again", async () => {
    expect(await coordinator.submitTask({ task_id: "root", task_type: "echo", payload: { r: 1 } })).toBe(
      true,
    );
    expect(
      await coordinator.submitTask({ task_id: "leaf", task_type: "echo", payload: {}, depends_on: ["root"] }),
    ).toBe(true);
    expect((await coordinator.waitForTask("leaf", 10_000))?.status).toBe("completed");
    expect((await ledger.get("root"))?.task).toMatchObject({ status: "completed", result: { r: 1 } });
    expect(await ledger.dependentsOf("root")).toEqual(["leaf"]);
    const ids = Array.from({ length: 3 * KEEP }, (_, i) => `t${i}`);
    for (const id of ids) {
      expect(await coordinator.submitTask({ task_id: id, task_type: "echo", payload: { id } })).toBe(true);
      expect((await coordinator.waitForTask(id, 10_000))?.status).toBe("completed");
    }
    const kept = (await Promise.all(ids.map((id) => ledger.get(id)))).map((r) => r !== null);
    // The newest KEEP (the leaf among the finished before them) are there; every older one is gone.
    expect(kept.slice(-(KEEP - 1)).every(Boolean)).toBe(true);
    expect(kept.slice(0, ids.length - KEEP).some(Boolean)).toBe(false);
    // root had a dependent, which heard of its end before the others ran: root was counted among
    // the finished then, and went with the oldest, its set of dependents with it. (Before, a
    // record with dependents stayed for its whole retention: a stream of fan-outs and joins on
    // memory:// grew the heap for 24 hours.)
    expect(await ledger.get("root")).toBeNull();
    expect(await ledger.dependentsOf("root")).toEqual([]);
    // An id whose record went is a new task again (the id is the idempotency key only while it is kept).
    expect(await coordinator.submitTask({ task_id: "t0", task_type: "echo", payload: { again: true } })).toBe(
      true,
    );
    expect((await coordinator.waitForTask("t0", 10_000))?.result).toEqual({ again: true });
  }, 30_000);

  it("keeps the checkpoints of at most as many ended graph tasks, those of the oldest sweep going first", async () => {
    const run = async (ids: string[]) => {
      for (const id of ids) {
        expect(await coordinator.submitTask({ task_id: id, task_type: "one_step", payload: { n: 1 } })).toBe(
          true,
        );
        expect((await coordinator.waitForTask(id, 10_000))?.result).toEqual({ n: 2 });
      }
      // Each sweep gives every ended task's thread the retention (the oldest records may be gone).
      expect(await distributor.expireEndedCheckpoints()).toBe(ids.length);
    };
    const kept = (ids: string[]) =>
      Promise.all(
        ids.map(
          async (id) =>
            (await distributor.checkpoints.getTuple({ configurable: { thread_id: id } })) !== undefined,
        ),
      );
    const first = Array.from({ length: KEEP }, (_, i) => `g${i}`);
    const second = Array.from({ length: KEEP }, (_, i) => `h${i}`);
    await run(first);
    expect(await kept(first)).toEqual(first.map(() => true));
    await run(second);
    expect(await kept(first)).toEqual(first.map(() => false));
    expect(await kept(second)).toEqual(second.map(() => true));
    // More ended between two sweeps than records are kept: the first three records are gone by
    // the sweep, and their threads (a distributor's: fenced) expire all the same.
    const third = Array.from({ length: KEEP + 3 }, (_, i) => `k${i}`);
    await run(third);
    expect(await Promise.all(third.slice(0, 3).map((id) => ledger.get(id)))).toEqual([null, null, null]);
    expect((await kept(third)).filter(Boolean)).toHaveLength(KEEP);
    const indexed: string[] = [];
    for await (const shard of distributor.checkpoints.threadsKeptForever()) indexed.push(...shard);
    expect(indexed).toEqual([]);
  }, 30_000);

  it("is refused where it cannot apply, and when it is not a positive integer", () => {
    expect(() => new RedisClient({ url: "redis://127.0.0.1:1", memoryMaxFinished: 5 })).toThrow(
      /memory:\/\//,
    );
    expect(() => new RedisClient({ url: "memory://x", memoryMaxFinished: 0 })).toThrow(/positive integer/);
  });
});
