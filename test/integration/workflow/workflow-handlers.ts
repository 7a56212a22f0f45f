import { afterAll, afterEach, beforeAll, expect } from "vitest";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import type { JsonValue, Task, Timing } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import type { TestEngine } from "../../helpers/engines.js";
import { sleep } from "../../helpers/wait.js";

/**
 * The handlers of the workflow suites (workflows.test.ts, workflows-at-limit-*.test.ts): each
 * records in a Timeline when a task started and ended and how often it ran.
 */
export type Timeline = {
  started: Map<string, number>;
  ended: Map<string, number>;
  runs: Map<string, number>;
};

export function handlers(t: Timeline) {
  const mark = (task: Task) => {
    t.started.set(task.taskId, performance.now());
    t.runs.set(task.taskId, (t.runs.get(task.taskId) ?? 0) + 1);
  };
  const done = <V>(task: Task, v: V): V => {
    t.ended.set(task.taskId, performance.now());
    return v;
  };
  return {
    step: (task: Task, ctx: HandlerContext): JsonValue => {
      mark(task);
      const deps = Object.fromEntries(Object.entries(ctx.dependencies).map(([id, d]) => [id, d.status]));
      return done(task, { deps, n: (task.payload.n as number) ?? 0 });
    },
    fail: (task: Task): JsonValue => {
      mark(task);
      t.ended.set(task.taskId, performance.now());
      throw new Error("planned failure");
    },
    sum: (task: Task, ctx: HandlerContext): JsonValue => {
      mark(task);
      let total = 0;
      for (const d of Object.values(ctx.dependencies))
        total += ((d.result as { n?: number })?.n ?? 0) as number;
      return done(task, { n: total });
    },
    plan: (task: Task, ctx: HandlerContext): JsonValue => {
      mark(task);
      const n = task.payload.n as number;
      const parts = ctx.spawn(
        Array.from({ length: n }, (_, i) => ({ task_type: "step", payload: { n: i + 1 } })),
      );
      const [join] = ctx.spawn([{ task_type: "sum", depends_on: parts }]);
      if (task.payload.fail_after_spawn && ctx.attempt < 3) throw new Error("fails after spawning");
      return done(task, { join: join! });
    },
    slow: async (task: Task): Promise<JsonValue> => {
      mark(task);
      await sleep((task.payload.ms as number) ?? 300); // the attempt's length
      return done(task, { n: 1 });
    },
  };
}

/**
 * The workflow suites' set-up on `engine` (call inside a describe): the engine set up and torn
 * down around the suite, a cluster stopped after each test. `start(workers)` starts a coordinator,
 * distributor d1 and `workers` workers running `handlers` with a fresh Timeline (`timeline`);
 * `expectOrder` checks every task started after each of its dependencies had ended.
 */
export function workflowSuite(engine: TestEngine) {
  let cluster: TestCluster | undefined;
  let t: Timeline = { started: new Map(), ended: new Map(), runs: new Map() };
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());
  return {
    /** The cluster of the running test (started by `start`). */
    get cluster(): TestCluster {
      return cluster!;
    },
    get timeline(): Timeline {
      return t;
    },
    async start(workers = 2, timing?: Timing): Promise<TestCluster> {
      t = { started: new Map(), ended: new Map(), runs: new Map() };
      cluster = new TestCluster(engine.config(), {
        handlers: handlers(t) as unknown as Record<string, never>,
        concurrency: 64,
        ...(timing ? { timing } : {}),
      });
      await cluster.startCoordinator();
      await cluster.startDistributor("d1");
      for (let i = 0; i < workers; i++) await cluster.startWorker(`w${i}`, "d1");
      await cluster.ready();
      return cluster;
    },
    expectOrder(tasks: Array<{ task_id: string; depends_on?: string[] }>): void {
      for (const task of tasks) {
        const start = t.started.get(task.task_id);
        if (start === undefined) continue;
        for (const dep of task.depends_on ?? []) expect(t.ended.get(dep)!).toBeLessThanOrEqual(start);
      }
    },
  };
}
