import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import { taskGraph } from "../../../src/agents/workflow/task-graph.js";
import type { JsonValue, Task } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * What a cancel reaches, and what it leaves alone (SPEC "Workflows": cancelling abandons the
 * open tasks that depend on it and the open tasks it spawned):
 * - a spawn that names an existing task's id records nothing, and that task is no child of the
 *   spawner: a cancel of the spawner never abandons it, the spawner's graph does not hold it;
 * - cancelling a task that had already ended (completed, failed, abandoned otherwise) answers
 *   false and leaves its dependents to their notices: none ends `dependency <id> abandoned`
 *   naming a status the dependency does not have. (Its open spawned tasks are still reached.)
 * On memory://, one Redis, and a 3-master Redis Cluster.
 */

type Seen = { runs: Map<string, number>; aborted: Set<string> };

function handlers(seen: Seen) {
  const ran = (task: Task) => seen.runs.set(task.taskId, (seen.runs.get(task.taskId) ?? 0) + 1);
  return {
    step: (task: Task): JsonValue => {
      ran(task);
      return { ok: true };
    },
    fail: (task: Task): JsonValue => {
      ran(task);
      throw new Error("planned failure");
    },
    /** Waits `ms` (default 1500) or until its signal fires. */
    long: async (task: Task, ctx: HandlerContext): Promise<JsonValue> => {
      ran(task);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, (task.payload.ms as number) ?? 1500);
        ctx.signal.addEventListener("abort", () => {
          seen.aborted.add(task.taskId);
          clearTimeout(timer);
          resolve();
        });
      });
      return { ok: true };
    },
    /** Spawns the existing task `payload.existing` (by its id) and one child of its own. */
    adopt: (task: Task, ctx: HandlerContext): JsonValue => {
      ran(task);
      const ids = ctx.spawn([
        { task_id: task.payload.existing as string, task_type: "step" },
        { task_type: "long", payload: { ms: 5000 } },
      ]);
      return { ids };
    },
  };
}

type KeeperInternals = { sweep: () => Promise<void>; settleNow: (taskId: string) => Promise<void> };

describe.each(testEngines("workflow-cancel-scope", { cluster: true }))("cancel scope on $name", (engine) => {
  let cluster: TestCluster | undefined;
  let seen: Seen;
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    await cluster?.stop();
    cluster = undefined;
  });
  afterAll(() => engine.teardown());

  async function start() {
    seen = { runs: new Map(), aborted: new Set() };
    cluster = new TestCluster(engine.config(), {
      handlers: handlers(seen) as unknown as Record<string, never>,
      concurrency: 16,
    });
    await cluster.startCoordinator();
    await cluster.startDistributor("d1");
    await cluster.startWorker("w0", "d1");
    await cluster.ready();
    const c = cluster.coordinator;
    return { c, keeper: c.core.workflow as unknown as KeeperInternals, id: (n: string) => cluster!.id(n) };
  }

  /** An open task of someone else's (not due for a minute), with a dependent of its own. */
  async function someoneElses(c: TestCluster["coordinator"], x: string, y: string) {
    await c.submitTask({
      task_id: x,
      task_type: "step",
      run_at: new Date(Date.now() + 60_000).toISOString(),
    });
    await c.submitTask({ task_id: y, task_type: "step", depends_on: [x] });
  }

  it("a spawn naming an existing task does not make it a child: cancel leaves it, the graph leaves it out", async () => {
    const { c, id } = await start();
    const [x, y, parent] = [id("X"), id("Y"), id("P")];
    await someoneElses(c, x, y);
    await c.submitTask({ task_id: parent, task_type: "adopt", payload: { existing: x } });
    expect(await c.waitForTask(parent, 5000)).toMatchObject({ status: "completed" });
    const child = `${parent}.2`;
    await waitFor(async () => !(await c.ledger.endedTaskIds()).includes(parent));
    // Its spawned list holds only the task it created.
    expect((await c.ledger.get(parent))?.spawned).toEqual([child]);
    expect((await c.ledger.get(x))?.task.parent_id).toBeUndefined();

    const graph = (await taskGraph(c.ledger, parent))!;
    expect(graph.nodes.map((n) => n.task_id).sort()).toEqual([parent, child].sort());
    expect(graph.edges).toEqual([[parent, child, "spawned"]]);

    expect(await c.cancelTask(parent)).toBe(false); // already completed
    expect(await c.waitForTask(child, 5000)).toMatchObject({
      status: "abandoned",
      error: `parent ${parent} canceled`,
    });
    // A negative check: the cancel reaches no task outside the parent's scope in 300 ms more.
    await new Promise((r) => setTimeout(r, 300));
    const left = (await c.ledger.get(x))!;
    expect(left.task.status).toBe("pending");
    expect(left.canceled).toBeUndefined();
    expect((await c.ledger.get(y))?.task.status).toBe("pending");
  }, 30_000);

  it("... also while the spawn is not recorded yet, and when the parent is canceled before it is", async () => {
    const { c, keeper, id } = await start();
    const [x, y, parent] = [id("X"), id("Y"), id("P")];
    await someoneElses(c, x, y);
    // The coordinator stops settling ended tasks (nor does it record a parent's spawned tasks
    // before showing its end: settleNow): the parent's spawn waits on its record.
    const sweep = keeper.sweep;
    const settleNow = keeper.settleNow;
    keeper.sweep = async () => {};
    keeper.settleNow = async () => {};
    await c.submitTask({ task_id: parent, task_type: "adopt", payload: { existing: x } });
    expect(await c.waitForTask(parent, 5000)).toMatchObject({ status: "completed" });
    expect((await c.ledger.get(parent))?.spawnJson).toContain(x);
    const child = `${parent}.2`;

    expect((await taskGraph(c.ledger, parent))!.nodes.map((n) => n.task_id)).toEqual([parent]);
    // The cascade reads the unrecorded spawn: it must not reach X.
    expect(await c.cancelTask(parent)).toBe(false);
    expect((await c.ledger.get(x))?.canceled).toBeUndefined();
    // The next sweep records the spawn of a canceled parent abandoned: its own child only.
    keeper.sweep = sweep;
    keeper.settleNow = settleNow;
    expect(await c.waitForTask(child, 5000)).toMatchObject({
      status: "abandoned",
      error: `parent ${parent} canceled`,
      parent_id: parent,
    });
    await waitFor(async () => !(await c.ledger.endedTaskIds()).includes(parent));
    expect((await c.ledger.get(parent))?.spawned).toEqual([child]);
    // A negative check, as above: x and y stay untouched.
    await new Promise((r) => setTimeout(r, 300));
    expect((await c.ledger.get(x))?.task).toMatchObject({ status: "pending" });
    expect((await c.ledger.get(x))?.canceled).toBeUndefined();
    expect((await c.ledger.get(y))?.task.status).toBe("pending");
    expect(seen.runs.has(child)).toBe(false);
  }, 30_000);

  it("cancelling a completed task leaves its dependents running, whenever they were submitted", async () => {
    const { c, id } = await start();
    const [a, b, d, late] = [id("A"), id("B"), id("D"), id("C")];
    await c.submitTasks([
      { task_id: a, task_type: "long", payload: { ms: 200 } },
      // B depends on A; D on B (a completed task's completed dependent's dependent).
      { task_id: b, task_type: "long", payload: { ms: 1500 }, depends_on: [a] },
      { task_id: d, task_type: "long", payload: { ms: 1500 }, depends_on: [id("B0")] },
      { task_id: id("B0"), task_type: "step", depends_on: [a] },
    ]);
    expect(await c.waitForTask(a, 5000)).toMatchObject({ status: "completed" });
    await c.submitTask({ task_id: late, task_type: "long", payload: { ms: 1500 }, depends_on: [a] });
    await waitFor(() => seen.runs.has(b) && seen.runs.has(d) && seen.runs.has(late));

    expect(await c.cancelTask(a)).toBe(false);
    for (const t of [b, d, late]) expect(await c.waitForTask(t, 5000)).toMatchObject({ status: "completed" });
    expect(await c.ledger.get(a)).toMatchObject({ task: { status: "completed" } });
    expect([...seen.aborted]).toEqual([]);
  }, 30_000);

  it("cancelling a task that failed, or was abandoned otherwise, leaves its 'run' dependents running", async () => {
    const { c, id } = await start();
    const [failed, abandoned, b, e] = [id("F"), id("E"), id("B"), id("Eb")];
    await c.submitTasks([
      { task_id: failed, task_type: "fail" },
      { task_id: b, task_type: "long", depends_on: [failed], on_dependency_failure: "run" },
      // Abandoned by its dependency's failure (not by a cancel).
      { task_id: abandoned, task_type: "step", depends_on: [failed] },
      { task_id: e, task_type: "long", depends_on: [abandoned], on_dependency_failure: "run" },
    ]);
    expect(await c.waitForTask(failed, 10_000)).toMatchObject({ status: "failed" });
    expect(await c.waitForTask(abandoned, 10_000)).toMatchObject({
      status: "abandoned",
      error: `dependency ${failed} failed`,
    });
    await waitFor(() => seen.runs.has(b) && seen.runs.has(e));

    expect(await c.cancelTask(failed)).toBe(false);
    expect(await c.cancelTask(abandoned)).toBe(false);
    expect(await c.waitForTask(b, 5000)).toMatchObject({ status: "completed" });
    expect(await c.waitForTask(e, 5000)).toMatchObject({ status: "completed" });
    expect([...seen.aborted]).toEqual([]);
  }, 30_000);

  it("a completed task canceled before its dependents heard of its end still lets them run", async () => {
    const { c, keeper, id } = await start();
    const [a, b] = [id("A"), id("B")];
    await c.submitTasks([
      { task_id: a, task_type: "long", payload: { ms: 300 } },
      { task_id: b, task_type: "step", depends_on: [a] },
    ]);
    await waitFor(() => seen.runs.has(a));
    // A ends while nothing settles: B has not heard of it when the cancel comes.
    const sweep = keeper.sweep;
    keeper.sweep = async () => {};
    expect(await c.waitForTask(a, 5000)).toMatchObject({ status: "completed" });
    expect(await c.cancelTask(a)).toBe(false);
    expect((await c.ledger.get(b))?.task.status).toBe("pending");
    keeper.sweep = sweep;
    expect(await c.waitForTask(b, 5000)).toMatchObject({ status: "completed" });
  }, 30_000);

  it("cancelling an open task still abandons its dependents, whatever their policy", async () => {
    const { c, id } = await start();
    const [a, b] = [id("A"), id("B")];
    await c.submitTasks([
      { task_id: a, task_type: "long", payload: { ms: 5000 } },
      { task_id: b, task_type: "step", depends_on: [a], on_dependency_failure: "run" },
    ]);
    await waitFor(() => seen.runs.has(a));
    expect(await c.cancelTask(a)).toBe(true);
    expect(await c.waitForTask(b, 5000)).toMatchObject({
      status: "abandoned",
      error: `dependency ${a} abandoned`,
    });
    expect(seen.runs.has(b)).toBe(false);
  }, 30_000);
});

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}
