import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import { MAX_GRAPH_DEPTH } from "../../../src/agents/workflow/graph-validation.js";
import { MAX_SPAWN_DEPTH } from "../../../src/agents/workflow/workflow-keeper.js";
import type { JsonValue, Task } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * The gaps a cancel cascade used to leave (DESIGN "Workflows"): spawned tasks recorded after
 * the cancel passed their parent, a cascade cut by a crash; and the depth limits (a graph
 * request's chain of dependencies, spawn nesting). On memory://, one Redis, and a 3-master
 * Redis Cluster (a parent and its children in different slots).
 */

type Runs = Map<string, number>;

function handlers(runs: Runs) {
  const ran = (task: Task) => runs.set(task.taskId, (runs.get(task.taskId) ?? 0) + 1);
  return {
    step: (task: Task): JsonValue => {
      ran(task);
      return { ok: true };
    },
    slow: async (task: Task): Promise<JsonValue> => {
      ran(task);
      await new Promise((r) => setTimeout(r, (task.payload.ms as number) ?? 300));
      return { ok: true };
    },
    /** Spawns two slow children and a join that waits on them. */
    plan: (task: Task, ctx: HandlerContext): JsonValue => {
      ran(task);
      const kids = ctx.spawn([
        { task_type: "slow", payload: { ms: 3000 } },
        { task_type: "slow", payload: { ms: 3000 } },
      ]);
      ctx.spawn([{ task_type: "step", depends_on: kids }]);
      return { kids };
    },
    /** Spawns one task like itself: a recursion with no end of its own. */
    nest: (task: Task, ctx: HandlerContext): JsonValue => {
      ran(task);
      ctx.spawn([{ task_type: "nest" }]);
      return null;
    },
  };
}

type KeeperInternals = {
  cascadeLimit: number;
  cascadeCancel: (taskId: string, reason?: string) => Promise<string[]>;
  sweep: () => Promise<void>;
  settleNow: (taskId: string) => Promise<void>;
  walk: (start: string[]) => Promise<string[]>;
  recordSpawned: (parent: unknown, json: string) => Promise<string[]>;
};

describe.each(testEngines("workflow-cancel", { cluster: true }))(
  "workflow cancel and limits on $name",
  (engine) => {
    let cluster: TestCluster | undefined;
    let runs: Runs;
    beforeAll(() => engine.setup(), 60_000);
    afterEach(async () => {
      await cluster?.stop();
      cluster = undefined;
    });
    afterAll(() => engine.teardown());

    async function start() {
      runs = new Map();
      cluster = new TestCluster(engine.config(), {
        handlers: handlers(runs) as unknown as Record<string, never>,
        concurrency: 16,
      });
      await cluster.startCoordinator();
      await cluster.startDistributor("d1");
      await cluster.startWorker("w0", "d1");
      await cluster.ready();
      const c = cluster.coordinator;
      return { c, keeper: c.core.workflow as unknown as KeeperInternals, id: (n: string) => cluster!.id(n) };
    }

    it("a cancel that reaches a parent before its spawned tasks are recorded gets them recorded abandoned, never run", async () => {
      const { c, keeper, id } = await start();
      const parent = id("planner");
      // The coordinator stops settling ended tasks, as if it died right after the parent's commit
      // (nor does it record a parent's spawned tasks before showing its end: settleNow).
      const sweep = keeper.sweep;
      const settleNow = keeper.settleNow;
      keeper.sweep = async () => {};
      keeper.settleNow = async () => {};
      await c.submitTask({ task_id: parent, task_type: "plan" });
      expect(await c.waitForTask(parent, 5000)).toMatchObject({ status: "completed" });
      expect((await c.ledger.get(parent))?.spawnJson).toBeTruthy();
      expect(await c.cancelTask(parent)).toBe(false); // already completed
      for (let i = 1; i <= 3; i++) expect(await c.ledger.get(`${parent}.${i}`)).toBeNull();
      // The next sweep records them: the parent is marked canceled, so they are recorded ended.
      keeper.sweep = sweep;
      keeper.settleNow = settleNow;
      for (let i = 1; i <= 3; i++) {
        expect(await c.waitForTask(`${parent}.${i}`, 5000)).toMatchObject({
          status: "abandoned",
          error: `parent ${parent} canceled`,
          parent_id: parent,
          attempts: 0,
        });
      }
      await waitFor(async () => !(await c.ledger.endedTaskIds()).includes(parent));
      expect((await c.ledger.get(parent))?.spawned).toEqual([1, 2, 3].map((i) => `${parent}.${i}`));
      for (let i = 1; i <= 3; i++) expect(runs.has(`${parent}.${i}`)).toBe(false);
    }, 30_000);

    it("a cancel whose task a cascade sweep ends between its mark and its abandon still answers canceled", async () => {
      const { c, id } = await start();
      const task = id("racing");
      await c.submitTask({ task_id: task, task_type: "slow", payload: { ms: 3000 } });
      await waitFor(async () => (await c.ledger.get(task))?.task.status === "in_progress");
      // A monitor tick's sweep (this coordinator's, or another's) runs right after the mark is written.
      const workflow = c.core.workflow;
      const mark = workflow.markCanceled.bind(workflow);
      workflow.markCanceled = async (taskId: string, reason: string) => {
        const marked = await mark(taskId, reason);
        await workflow.tick();
        return marked;
      };
      try {
        expect(await c.cancelTask(task)).toBe(true);
      } finally {
        workflow.markCanceled = mark;
      }
      expect((await c.ledger.get(task))?.task).toMatchObject({
        status: "abandoned",
        error: "canceled by client",
      });
      // A second cancel finds it ended: not canceled by that call.
      expect(await c.cancelTask(task)).toBe(false);
    }, 30_000);

    it("a cancel that passes the parent while its spawned tasks are being recorded reaches them once they are", async () => {
      const { c, keeper, id } = await start();
      const parent = id("planner");
      // The parent's record is read (not canceled yet), then the cancel comes and walks past it
      // (no child exists yet), then the children are recorded as if nothing happened. (Not the
      // whole cancelTask: its answer reads the parent, shown ended only once they are recorded.)
      const recordSpawned = keeper.recordSpawned;
      const cascadeCancel = keeper.cascadeCancel;
      let cancel: Promise<boolean> | undefined;
      let walked: Promise<string[]> | undefined;
      keeper.cascadeCancel = function (this: KeeperInternals, taskId, reason) {
        walked = cascadeCancel.call(this, taskId, reason);
        return walked;
      };
      keeper.recordSpawned = async function (this: KeeperInternals, record, json) {
        cancel ??= c.cancelTask(parent);
        await waitFor(() => walked !== undefined);
        await walked;
        return recordSpawned.call(this, record, json);
      };
      await c.submitTask({ task_id: parent, task_type: "plan" });
      expect(await c.waitForTask(parent, 5000)).toMatchObject({ status: "completed" });
      await waitFor(() => cancel !== undefined);
      expect(await cancel).toBe(false);
      for (let i = 1; i <= 3; i++) {
        expect(await c.waitForTask(`${parent}.${i}`, 10_000)).toMatchObject({
          status: "abandoned",
          error: `parent ${parent} canceled`,
        });
      }
      // A child may have started before the cascade reached it; none committed.
      expect(cluster!.commits.filter((k) => k.taskId.startsWith(`${parent}.`))).toEqual([]);
      keeper.recordSpawned = recordSpawned;
      keeper.cascadeCancel = cascadeCancel;
    }, 30_000);

    it("a cascade cut by a crash is finished by a later tick, from the frontier kept in the store", async () => {
      const { c, keeper, id } = await start();
      await c.submitTasks([
        { task_id: id("head"), task_type: "slow", payload: { ms: 3000 } },
        { task_id: id("next"), task_type: "step", depends_on: [id("head")] },
        { task_id: id("last"), task_type: "step", depends_on: [id("next")], on_dependency_failure: "run" },
      ]);
      await waitFor(() => runs.has(id("head")));
      // The process dies after the cancel marked and ended the head, before its cascade walked.
      const walk = keeper.walk;
      keeper.walk = async () => [];
      expect(await c.cancelTask(id("head"))).toBe(true);
      await new Promise((r) => setTimeout(r, 700)); // more than a monitor tick: nothing walks on
      expect((await c.ledger.get(id("next")))?.task.status).toBe("pending");
      expect((await c.ledger.get(id("head")))?.canceled).toBe("canceled by client");
      // The next coordinator's tick walks on from the head.
      keeper.walk = walk;
      expect(await c.waitForTask(id("next"), 5000)).toMatchObject({
        status: "abandoned",
        error: `dependency ${id("head")} abandoned`,
      });
      expect(await c.waitForTask(id("last"), 5000)).toMatchObject({
        status: "abandoned",
        error: `dependency ${id("next")} abandoned`,
      });
      expect(runs.has(id("next"))).toBe(false);
      expect(runs.has(id("last"))).toBe(false);
    }, 30_000);

    it("a cascade cut by its limit is finished by the ticks, every task reached once", async () => {
      const { c, keeper, id } = await start();
      // Ten waiting tasks on a slow head, each with one waiting on it: 21 tasks below the cancel.
      const tasks = [
        { task_id: id("top"), task_type: "slow", payload: { ms: 3000 } },
        ...Array.from({ length: 10 }, (_, i) => ({
          task_id: id(`mid${i}`),
          task_type: "step",
          depends_on: [id("top")],
        })),
        ...Array.from({ length: 10 }, (_, i) => ({
          task_id: id(`low${i}`),
          task_type: "step",
          depends_on: [id(`mid${i}`)],
          on_dependency_failure: "run" as const,
        })),
      ];
      await c.submitTasks(tasks);
      await waitFor(() => runs.has(id("top")));
      await waitFor(async () => (await c.ledger.dependentsOf(id("top"))).length === 10);
      keeper.cascadeLimit = 4; // the head and three more, then the walk stops
      const ended = await keeper.cascadeCancel(id("top"), "canceled by client");
      expect(ended.length).toBeLessThanOrEqual(4);
      expect(ended).toContain(id("top"));
      for (const t of tasks.slice(1)) {
        expect(await c.waitForTask(t.task_id, 10_000)).toMatchObject({ status: "abandoned" });
        expect(runs.has(t.task_id)).toBe(false);
      }
      keeper.cascadeLimit = 10_000;
    }, 30_000);

    it(`refuses a graph request chaining more than ${MAX_GRAPH_DEPTH} levels, recording nothing`, async () => {
      const { c, id } = await start();
      const chain = Array.from({ length: MAX_GRAPH_DEPTH + 1 }, (_, i) => ({
        task_id: id(`link${i}`),
        task_type: "step",
        ...(i > 0 ? { depends_on: [id(`link${i - 1}`)] } : {}),
      }));
      await expect(c.submitTasks(chain)).rejects.toMatchObject({
        code: "ERR_INVALID_TASK",
        message: expect.stringMatching(`at most ${MAX_GRAPH_DEPTH} levels`),
      });
      for (const i of [0, 1, MAX_GRAPH_DEPTH]) expect(await c.ledger.get(id(`link${i}`))).toBeNull();
    }, 30_000);

    it(`ends the spawns of a task ${MAX_SPAWN_DEPTH} spawns deep abandoned: a self-spawning handler stops`, async () => {
      const { c, id } = await start();
      const root = id("nest");
      const at = (depth: number) => root + ".1".repeat(depth);
      await c.submitTask({ task_id: root, task_type: "nest" });
      expect(await c.waitForTask(at(MAX_SPAWN_DEPTH), 20_000)).toMatchObject({
        status: "completed",
        parent_id: at(MAX_SPAWN_DEPTH - 1),
      });
      expect(await c.waitForTask(at(MAX_SPAWN_DEPTH + 1), 10_000)).toMatchObject({
        status: "abandoned",
        error: `spawn nesting over ${MAX_SPAWN_DEPTH} levels: parent ${at(MAX_SPAWN_DEPTH)} is ${MAX_SPAWN_DEPTH} spawns deep already`,
        attempts: 0,
      });
      expect(runs.has(at(MAX_SPAWN_DEPTH + 1))).toBe(false);
      expect(await c.ledger.get(at(MAX_SPAWN_DEPTH + 2))).toBeNull();
    }, 60_000);
  },
);

async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}
