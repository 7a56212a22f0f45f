import { describe, expect, it } from "vitest";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import type { Task } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { sleep, until } from "../../helpers/wait.js";
import { workflowSuite } from "./workflow-handlers.js";

/**
 * Workflows (SPEC "Workflows"): a task runs only once every dependency has ended, a failure
 * travels down the graph as the policy says, spawned tasks exist only if the attempt that
 * spawned them committed, and cancel reaches dependents and spawned tasks. On memory://, one
 * Redis, and a 3-master Redis Cluster (dependencies and dependents in different slots). The
 * graphs at the limits (a fan-out of 10,000, a chain of 1,000) are in workflows-at-limit-*.test.ts,
 * a file per engine, so they run beside other files instead of one after the other in this one.
 */

describe.each(testEngines("workflow", { cluster: true }))("workflows on $name", (engine) => {
  const suite = workflowSuite(engine);
  const { start, expectOrder } = suite;

  it("runs a diamond in order; the join sees each dependency's outcome; keys absent when unused", async () => {
    const c = (await start()).coordinator;
    const id = (n: string) => suite.cluster.id(n);
    const graph = [
      { task_id: id("a"), task_type: "step", payload: { n: 1 } },
      { task_id: id("b"), task_type: "step", payload: { n: 2 }, depends_on: [id("a")] },
      { task_id: id("c"), task_type: "step", payload: { n: 3 }, depends_on: [id("a")] },
      { task_id: id("d"), task_type: "sum", depends_on: [id("b"), id("c")] },
    ];
    expect(await c.submitTasks(graph)).toEqual([true, true, true, true]);
    const d = await c.waitForTask(id("d"), 20_000);
    expect(d).toMatchObject({
      status: "completed",
      result: { n: 5 },
      depends_on: [id("b"), id("c")],
      waiting_on: [],
    });
    expectOrder(graph);
    const a = await c.waitForTask(id("a"), 5000);
    expect(a && "depends_on" in a).toBe(false);
    expect(a && "parent_id" in a).toBe(false);
  }, 30_000);

  it("a submit after a dependency ended answers with waiting_on listing only the open ones", async () => {
    const c = (await start()).coordinator;
    const [trip, slow, after] = ["trip", "slow", "after"].map((n) => suite.cluster.id(n)) as [
      string,
      string,
      string,
    ];
    await c.submitTask({ task_id: trip, task_type: "step", payload: { n: 1 } });
    expect(await c.waitForTask(trip, 10_000)).toMatchObject({ status: "completed" });
    await c.submitTask({ task_id: slow, task_type: "slow", payload: { ms: 2_000 } });
    // As soon as the submit resolves (what POST /tasks answers from): not the ended one.
    await c.submitTask({ task_id: after, task_type: "step", depends_on: [trip, slow] });
    expect((await c.ledger.get(after))?.task).toMatchObject({ status: "pending", waiting_on: [slow] });
    expect(await c.waitForTask(after, 10_000)).toMatchObject({ status: "completed", waiting_on: [] });
  }, 30_000);

  it("shows a waiting task pending with waiting_on, then runs it when its dependency ends", async () => {
    const c = (await start()).coordinator;
    const slow = suite.cluster.id("slow");
    const after = suite.cluster.id("after");
    await c.submitTask({ task_id: slow, task_type: "slow", payload: { ms: 400 } });
    await c.submitTask({ task_id: after, task_type: "step", depends_on: [slow] });
    const waiting = await c.ledger.get(after);
    expect(waiting?.task).toMatchObject({ status: "pending", waiting_on: [slow], depends_on: [slow] });
    expect(waiting?.distributor).toBeNull();
    expect(await c.waitForTask(after, 10_000)).toMatchObject({
      status: "completed",
      result: { deps: { [slow]: "completed" } },
    });
    expectOrder([{ task_id: after, depends_on: [slow] }]);
  }, 20_000);

  it("abandons dependents transitively when a dependency fails; 'run' runs anyway", async () => {
    const c = (await start()).coordinator;
    const id = (n: string) => suite.cluster.id(n);
    const graph = [
      { task_id: id("bad"), task_type: "fail" },
      { task_id: id("child"), task_type: "step", depends_on: [id("bad")] },
      { task_id: id("grandchild"), task_type: "step", depends_on: [id("child")] },
      {
        task_id: id("runner"),
        task_type: "step",
        depends_on: [id("bad")],
        on_dependency_failure: "run" as const,
      },
    ];
    await c.submitTasks(graph);
    expect(await c.waitForTask(id("bad"), 10_000)).toMatchObject({ status: "failed" });
    expect(await c.waitForTask(id("child"), 10_000)).toMatchObject({
      status: "abandoned",
      error: `dependency ${id("bad")} failed`,
    });
    expect(await c.waitForTask(id("grandchild"), 10_000)).toMatchObject({
      status: "abandoned",
      error: `dependency ${id("child")} abandoned`,
    });
    expect(await c.waitForTask(id("runner"), 10_000)).toMatchObject({
      status: "completed",
      result: { deps: { [id("bad")]: "failed" } },
      on_dependency_failure: "run",
    });
    expect(suite.timeline.runs.has(id("child"))).toBe(false);
    expect(suite.timeline.runs.has(id("grandchild"))).toBe(false);
  }, 30_000);

  it("refuses a cycle, a self-dependency, an unknown dependency and oversized lists: nothing recorded", async () => {
    const c = (await start()).coordinator;
    const id = (n: string) => suite.cluster.id(n);
    const cases: Array<[Array<Record<string, unknown>>, RegExp]> = [
      [
        [
          { task_id: id("x"), task_type: "step", depends_on: [id("z")] },
          { task_id: id("y"), task_type: "step", depends_on: [id("x")] },
          { task_id: id("z"), task_type: "step", depends_on: [id("y")] },
        ],
        /cycle/,
      ],
      [[{ task_id: id("self"), task_type: "step", depends_on: [id("self")] }], /depends on itself/],
      [
        [{ task_id: id("orphan"), task_type: "step", depends_on: [id("nobody")] }],
        /neither a known task nor in this batch/,
      ],
      [
        [
          {
            task_id: id("wide"),
            task_type: "step",
            depends_on: Array.from({ length: 1001 }, (_, i) => `w${i}`),
          },
        ],
        /at most 1000 ids/,
      ],
      [
        Array.from({ length: 10_001 }, (_, i) => ({
          task_id: id(`big${i}`),
          task_type: "step",
          ...(i > 0 ? { depends_on: [id("big0")] } : {}),
        })),
        /at most 10000 tasks/,
      ],
    ];
    for (const [batch, message] of cases) {
      await expect(c.submitTasks(batch)).rejects.toMatchObject({
        code: "ERR_INVALID_TASK",
        message: expect.stringMatching(message),
      });
      for (const task of batch.slice(0, 3)) expect(await c.ledger.get(task.task_id as string)).toBeNull();
    }
    await expect(
      c.submitTask({ task_id: id("lone"), task_type: "step", depends_on: [id("ghost")] }),
    ).rejects.toMatchObject({
      code: "ERR_INVALID_TASK",
    });
    expect(await c.ledger.get(id("lone"))).toBeNull();
  }, 30_000);

  it("spawns children and a join in the attempt's commit; a failed attempt spawns nothing, its retry spawns once", async () => {
    const c = (await start()).coordinator;
    const parent = suite.cluster.id("planner");
    await c.submitTask({ task_id: parent, task_type: "plan", payload: { n: 5, fail_after_spawn: true } });
    const done = await c.waitForTask(parent, 10_000);
    // Two attempts failed after spawning: their spawns were never recorded. The third committed.
    expect(done).toMatchObject({ status: "completed", attempts: 3, result: { join: `${parent}.6` } });
    const join = await c.waitForTask(`${parent}.6`, 10_000);
    expect(join).toMatchObject({ status: "completed", result: { n: 15 }, parent_id: parent });
    for (let i = 1; i <= 5; i++) {
      expect(await c.ledger.get(`${parent}.${i}`)).toMatchObject({
        task: { status: "completed", parent_id: parent },
      });
      expect((await suite.cluster.settled([`${parent}.${i}`])).get(`${parent}.${i}`)).toBe(1);
    }
    expect(await c.ledger.get(`${parent}.7`)).toBeNull();
    expect((await c.ledger.get(parent))?.spawned).toHaveLength(6);
  }, 20_000);

  it("a spawn that depends on an unknown task fails its parent at once with ERR_INVALID_TASK, spawning nothing (as a submit is refused)", async () => {
    const c = (await start()).coordinator;
    const known = suite.cluster.id("known-dep");
    await c.submitTask({ task_id: known, task_type: "step" });
    await c.waitForTask(known, 10_000);
    const missing = suite.cluster.id("never-submitted");
    const spawner = ((_task: Task, ctx: HandlerContext) => {
      const kids = ctx.spawn([{ task_type: "step" }, { task_type: "sum", depends_on: [known] }]);
      ctx.spawn([{ task_type: "sum", depends_on: [kids[0]!, missing] }]);
      return { kids };
    }) as never;
    for (const w of suite.cluster.workers.values()) w.registerTaskHandler("spawn_unknown_dep", spawner);
    const parent = suite.cluster.id("spawns-unknown");
    await c.submitTask({ task_id: parent, task_type: "spawn_unknown_dep" });
    const ended = await c.waitForTask(parent, 10_000);
    expect(ended).toMatchObject({ status: "failed", attempts: 1 });
    expect(ended!.error).toBe(
      `ERR_INVALID_TASK: ctx.spawn: task "${parent}.3" depends on "${missing}", which is neither a known task nor spawned by this attempt; nothing was spawned`,
    );
    for (let i = 1; i <= 3; i++) expect(await c.ledger.get(`${parent}.${i}`)).toBeNull();
    // The same dependency in a submit: 422, the same code.
    await expect(
      c.submitTask({
        task_id: suite.cluster.id("submits-unknown"),
        task_type: "step",
        depends_on: [missing],
      }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_TASK" });
  }, 20_000);

  it("a spawn the handler gets wrong (a cycle) fails the task at once, not after every retry", async () => {
    const c = (await start()).coordinator;
    const cyclic = ((_task: Task, ctx: HandlerContext) => {
      ctx.spawn([
        { task_id: `${_task.taskId}.a`, task_type: "step", depends_on: [`${_task.taskId}.b`] },
        { task_id: `${_task.taskId}.b`, task_type: "step", depends_on: [`${_task.taskId}.a`] },
      ]);
      return {};
    }) as never;
    for (const w of suite.cluster.workers.values()) w.registerTaskHandler("spawn_cycle", cyclic);
    const parent = suite.cluster.id("spawns-cycle");
    await c.submitTask({ task_id: parent, task_type: "spawn_cycle" });
    const ended = await c.waitForTask(parent, 10_000);
    expect(ended).toMatchObject({ status: "failed", attempts: 1 });
    expect(ended!.error).toContain("form a cycle");
  }, 20_000);

  it("a spawned id POST /tasks refuses (white space, a control character) fails the parent at once, spawning nothing", async () => {
    const c = (await start()).coordinator;
    for (const [name, childId] of [
      ["space", " "],
      ["control", "x\u0001"],
    ] as const) {
      const spawner = ((_task: Task, ctx: HandlerContext) => {
        ctx.spawn([{ task_type: "step" }, { task_id: childId, task_type: "step" }]);
        return {};
      }) as never;
      for (const w of suite.cluster.workers.values()) w.registerTaskHandler(`spawn_bad_id_${name}`, spawner);
      const parent = suite.cluster.id(`spawns-bad-id-${name}`);
      await c.submitTask({ task_id: parent, task_type: `spawn_bad_id_${name}` });
      const ended = await c.waitForTask(parent, 30_000);
      expect(ended, name).toMatchObject({ status: "failed", attempts: 1 });
      expect(ended!.error).toContain(
        `spawned task_id ${JSON.stringify(childId)} must not contain whitespace or control characters`,
      );
      expect(await c.ledger.get(`${parent}.1`)).toBeNull();
      expect(await c.ledger.get(childId)).toBeNull();
      // The same id in a submit: refused, the same code.
      await expect(c.submitTask({ task_id: childId, task_type: "step" })).rejects.toMatchObject({
        code: "ERR_INVALID_TASK",
      });
    }
  }, 90_000);

  it("a task that fails for good after spawning leaves no child behind", async () => {
    const c = (await start()).coordinator;
    const parent = suite.cluster.id("doomed");
    await c.submitTask({ task_id: parent, task_type: "plan", payload: { n: 3, fail_after_spawn: true } });
    // maxRetries 2 in TestCluster: attempts 1 and 2 fail, 3 succeeds; so fail it with a task type that always fails after spawning.
    expect(await c.waitForTask(parent, 10_000)).toMatchObject({ status: "completed" });
    const bad = suite.cluster.id("bad-planner");
    suite.cluster.workers.get("w0")!.registerTaskHandler("plan_then_fail", ((
      _task: Task,
      ctx: HandlerContext,
    ) => {
      ctx.spawn([{ task_type: "step" }, { task_type: "step" }]);
      throw new Error("no");
    }) as never);
    suite.cluster.workers.get("w1")!.registerTaskHandler("plan_then_fail", ((
      _task: Task,
      ctx: HandlerContext,
    ) => {
      ctx.spawn([{ task_type: "step" }, { task_type: "step" }]);
      throw new Error("no");
    }) as never);
    await c.submitTask({ task_id: bad, task_type: "plan_then_fail" });
    expect(await c.waitForTask(bad, 10_000)).toMatchObject({ status: "failed", attempts: 3 });
    // Negative check: no spawned child of the failed attempts appears after the failure.
    await sleep(300);
    expect(await c.ledger.get(`${bad}.1`)).toBeNull();
    expect(await c.ledger.get(`${bad}.2`)).toBeNull();
  }, 20_000);

  it("cancel abandons the open dependents and the open spawned tasks, transitively", async () => {
    const c = (await start()).coordinator;
    const id = (n: string) => suite.cluster.id(n);
    await c.submitTasks([
      { task_id: id("head"), task_type: "slow", payload: { ms: 2000 } },
      { task_id: id("next"), task_type: "step", depends_on: [id("head")] },
      {
        task_id: id("runs-anyway"),
        task_type: "step",
        depends_on: [id("next")],
        on_dependency_failure: "run",
      },
    ]);
    await until("the head has started", () => suite.timeline.started.has(id("head")), 10_000);
    expect(await c.cancelTask(id("head"))).toBe(true);
    expect(await c.waitForTask(id("next"), 5000)).toMatchObject({ status: "abandoned" });
    expect(await c.waitForTask(id("runs-anyway"), 5000)).toMatchObject({ status: "abandoned" });
    expect(suite.timeline.runs.has(id("runs-anyway"))).toBe(false);

    // Spawned tasks: a completed parent's open children end too.
    const parent = id("spawner");
    for (const w of suite.cluster.workers.values()) {
      w.registerTaskHandler("spawn_slow", ((_task: Task, ctx: HandlerContext) => {
        ctx.spawn([{ task_type: "slow", payload: { ms: 3000 } }]);
        ctx.spawn([{ task_type: "step", depends_on: [`${parent}.1`] }]);
        return null;
      }) as never);
    }
    await c.submitTask({ task_id: parent, task_type: "spawn_slow" });
    await until(
      "the spawned tasks are recorded",
      async () => (await c.ledger.get(`${parent}.2`)) !== null,
      10_000,
    );
    expect(await c.cancelTask(parent)).toBe(false); // already completed
    expect(await c.waitForTask(`${parent}.1`, 5000)).toMatchObject({
      status: "abandoned",
      error: `parent ${parent} canceled`,
    });
    expect(await c.waitForTask(`${parent}.2`, 5000)).toMatchObject({ status: "abandoned" });
  }, 30_000);

  it("re-sends notices lost in a crash: a task left in `ended` is settled by the next sweep", async () => {
    const c = (await start()).coordinator;
    const id = (n: string) => suite.cluster.id(n);
    await c.submitTasks([
      { task_id: id("first"), task_type: "slow", payload: { ms: 200 } },
      { task_id: id("second"), task_type: "step", depends_on: [id("first")] },
    ]);
    // The coordinator stops settling (as if it died right after the commit)...
    const keeper = c.core.workflow as unknown as { sweep: () => Promise<void> };
    const sweep = keeper.sweep;
    keeper.sweep = async () => {};
    expect(await c.waitForTask(id("first"), 5000)).toMatchObject({ status: "completed" });
    // Negative check: with no sweep, the dependent must not be released in the meantime.
    await sleep(300);
    expect((await c.ledger.get(id("second")))?.task).toMatchObject({
      status: "pending",
      waiting_on: [id("first")],
    });
    expect(await c.ledger.endedTaskIds()).toContain(id("first"));
    // ...and the next one to sweep (a monitor tick, a restarted coordinator) finds the notice to send.
    keeper.sweep = sweep;
    expect(await c.waitForTask(id("second"), 10_000)).toMatchObject({ status: "completed" });
    expect((await suite.cluster.settled([id("second")])).get(id("second"))).toBe(1);
    expect(await c.ledger.endedTaskIds()).not.toContain(id("first"));
  }, 30_000);

  it("re-registers a waiting task whose registration was lost (rewatch)", async () => {
    const c = (await start()).coordinator;
    const id = (n: string) => suite.cluster.id(n);
    const keeper = c.core.workflow as unknown as { watchAll: (...a: unknown[]) => Promise<void> };
    const watchAll = keeper.watchAll;
    keeper.watchAll = async () => {
      throw new Error("lost");
    };
    await c.submitTasks([
      { task_id: id("dep"), task_type: "step" },
      { task_id: id("waits"), task_type: "step", depends_on: [id("dep")] },
    ]);
    expect(await c.waitForTask(id("dep"), 5000)).toMatchObject({ status: "completed" });
    keeper.watchAll = watchAll;
    // The failed registration marked the keeper for a re-registration on the next tick.
    expect(await c.waitForTask(id("waits"), 10_000)).toMatchObject({ status: "completed" });
  }, 30_000);
});
