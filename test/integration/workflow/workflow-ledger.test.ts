import { describe, expect, it } from "vitest";
import { shardOf, shardTag } from "../../../src/agents/ledger/shards.js";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import { WorkflowKeeper } from "../../../src/agents/workflow/workflow-keeper.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { until } from "../../helpers/wait.js";

/**
 * The workflow scripts' promises, on each engine: a "dependency ended" notice is idempotent (a
 * set of open dependencies, not a counter), the failure policy is applied in the dependent's
 * shard, a task with dependents is listed in `ended` by the script that ends it and leaves it
 * only when settled, and a finished workflow leaves nothing once its records expire.
 */

const task = newTasks("wl");

describe.each(testEngines("workflow-ledger", { cluster: true }))("workflow scripts on $name", (engine) => {
  const openLedger = ledgerOn(engine);
  const open = (retentionSeconds = 60) => openLedger({ retentionSeconds });

  async function run(ledger: TaskLedger, id: string): Promise<void> {
    expect(await ledger.assign(id, "d1")).toBe(true);
    const fence = await ledger.dispatch(id, "d1", "w1");
    expect(typeof fence).toBe("number");
    expect(
      await ledger.commit({ taskId: id, fence: fence as number, status: "completed", result: { ok: 1 } }),
    ).toBe("completed");
  }

  it("a repeated notice changes nothing; the task is ready once, after its last dependency", async () => {
    const { ledger } = await open();
    const a = task();
    const b = task();
    const join = task({ dependsOn: [a.taskId, b.taskId] });
    for (const t of [a, b, join]) expect(await ledger.submit(t)).toBe(true);
    expect(await ledger.assign(join.taskId, "d1")).toBe(false); // waiting: not placeable
    expect(await ledger.watchDependency(a.taskId, join.taskId)).toBe("");
    expect(await ledger.watchDependency(a.taskId, join.taskId)).toBe(""); // twice: still one registration
    expect(await ledger.dependentsOf(a.taskId)).toEqual([join.taskId]);
    await run(ledger, a.taskId);
    expect(await ledger.endedTaskIds()).toContain(a.taskId);
    // What settling it reads, in one call: no spawn to record, no cancel, one dependent.
    expect(await ledger.endedTask(a.taskId)).toEqual({
      status: "completed",
      spawns: false,
      canceled: false,
      dependents: [join.taskId],
    });
    expect(await ledger.endedTask("never-recorded")).toEqual({
      status: null,
      spawns: false,
      canceled: false,
      dependents: [],
    });
    expect(await ledger.outcome(a.taskId)).toEqual({ status: "completed", result: { ok: 1 }, error: null });
    expect(await ledger.outcome(join.taskId)).toEqual({ status: "pending", result: null, error: null });
    expect(await ledger.outcome("never-recorded")).toBeNull();
    expect(await ledger.notifyDependencyEnded(join.taskId, a.taskId, "completed")).toEqual({
      verdict: "waiting",
      record: null,
    });
    expect((await ledger.notifyDependencyEnded(join.taskId, a.taskId, "completed")).verdict).toBe(
      "unchanged",
    );
    expect((await ledger.get(join.taskId))?.task.waiting_on).toEqual([b.taskId]);
    // b ended before anyone registered on it: the watch answers its status instead.
    await run(ledger, b.taskId);
    expect(await ledger.watchDependency(b.taskId, join.taskId)).toBe("completed");
    // The notice that makes it ready hands back its record: the keeper places it from that.
    const ready = await ledger.notifyDependencyEnded(join.taskId, b.taskId, "completed");
    expect(ready.verdict).toBe("ready");
    expect(ready.record?.task).toMatchObject({
      task_id: join.taskId,
      status: "pending",
      depends_on: [a.taskId, b.taskId],
    });
    expect((await ledger.notifyDependencyEnded(join.taskId, b.taskId, "completed")).verdict).toBe(
      "unchanged",
    );
    expect(await ledger.waitingTaskIds()).not.toContain(join.taskId);
    expect((await ledger.get(join.taskId))?.task).toMatchObject({ status: "pending", waiting_on: [] });
    expect(await ledger.settleEnded(a.taskId, null)).toBe(true);
    expect(await ledger.settleEnded(a.taskId, null)).toBe(false);
    expect(await ledger.endedTaskIds()).not.toContain(a.taskId);
  });

  it("a failed dependency abandons an 'abandon' dependent once, and readies a 'run' one", async () => {
    const { ledger } = await open();
    const dep = task();
    const strict = task({ dependsOn: [dep.taskId] });
    const lenient = task({ dependsOn: [dep.taskId], onDependencyFailure: "run" });
    for (const t of [dep, strict, lenient]) expect(await ledger.submit(t)).toBe(true);
    const abandoned = await ledger.notifyDependencyEnded(strict.taskId, dep.taskId, "failed");
    expect(abandoned.verdict).toBe("abandoned");
    expect(abandoned.record?.task).toMatchObject({
      status: "abandoned",
      error: `dependency ${dep.taskId} failed`,
    });
    expect((await ledger.notifyDependencyEnded(strict.taskId, dep.taskId, "failed")).verdict).toBe(
      "unchanged",
    );
    expect((await ledger.get(strict.taskId))?.task).toMatchObject({
      status: "abandoned",
      error: `dependency ${dep.taskId} failed`,
    });
    expect((await ledger.notifyDependencyEnded(lenient.taskId, dep.taskId, "failed")).verdict).toBe("ready");
    expect((await ledger.get(lenient.taskId))?.task).toMatchObject({
      status: "pending",
      on_dependency_failure: "run",
    });
  });

  it("a spawn is written only by a completing, current attempt", async () => {
    const { ledger } = await open();
    const parent = task();
    expect(await ledger.submit(parent, "d1")).toBe(true);
    const child = { task_id: `${parent.taskId}.1`, task_type: "echo", payload: {} };
    const first = (await ledger.dispatch(parent.taskId, "d1", "w1")) as number;
    expect(
      await ledger.commit({
        taskId: parent.taskId,
        fence: first,
        status: "failed",
        error: "x",
        spawn: [child],
      }),
    ).toBe("failed");
    expect((await ledger.get(parent.taskId))?.spawnJson).toBeNull();
    expect(await ledger.endedTaskIds()).not.toContain(parent.taskId);

    const other = task();
    expect(await ledger.submit(other, "d1")).toBe(true);
    const stale = (await ledger.dispatch(other.taskId, "d1", "w1")) as number;
    expect(await ledger.requeue(other.taskId, "d1", stale)).toBe(true);
    expect(
      await ledger.commit({ taskId: other.taskId, fence: stale, status: "completed", spawn: [child] }),
    ).toBe("stale");
    expect((await ledger.get(other.taskId))?.spawnJson).toBeNull();
    const current = (await ledger.dispatch(other.taskId, "d1", "w1")) as number;
    expect(
      await ledger.commit({ taskId: other.taskId, fence: current, status: "completed", spawn: [child] }),
    ).toBe("completed");
    expect(JSON.parse((await ledger.get(other.taskId))?.spawnJson ?? "[]")).toEqual([child]);
    expect(await ledger.endedTaskIds()).toContain(other.taskId);
    expect(await ledger.settleEnded(other.taskId, [child.task_id])).toBe(true);
    expect(await ledger.get(other.taskId)).toMatchObject({ spawnJson: null, spawned: [child.task_id] });
  });

  it("a finished workflow leaves nothing once its records expire", async () => {
    const { store, ledger } = await open(0.3);
    const a = task();
    const b = task({ dependsOn: [a.taskId] });
    for (const t of [a, b]) expect(await ledger.submit(t)).toBe(true);
    expect(await ledger.watchDependency(a.taskId, b.taskId)).toBe("");
    await run(ledger, a.taskId);
    expect((await ledger.notifyDependencyEnded(b.taskId, a.taskId, "completed")).verdict).toBe("ready");
    expect(await ledger.settleEnded(a.taskId, null)).toBe(true);
    await run(ledger, b.taskId);
    const key = (id: string, kind: string) => `${shardTag(shardOf(id, ledger.shards))}${kind}:${id}`;
    expect(await store.exists(key(a.taskId, "dependents"))).toBe(true); // kept for the graph, until retention
    await new Promise((r) => setTimeout(r, 600));
    for (const [id, kind] of [
      [a.taskId, "task"],
      [b.taskId, "task"],
      [a.taskId, "dependents"],
      [b.taskId, "wait"],
    ] as const) {
      expect(await store.exists(key(id, kind)), `${kind}:${id}`).toBe(false);
    }
    expect(await ledger.waitingTaskIds()).not.toContain(b.taskId);
    expect(await ledger.endedTaskIds()).not.toContain(a.taskId);
  });

  it("a dependent registered after its dependency ended is among its dependents, until the record expires", async () => {
    const { store, ledger } = await open(0.5);
    const a = task();
    expect(await ledger.submit(a)).toBe(true);
    await run(ledger, a.taskId);
    const b = task({ dependsOn: [a.taskId] });
    expect(await ledger.submit(b)).toBe(true);
    // The dependency has ended: its status comes back for the caller's notice, and the graph
    // still finds b from a (GET /tasks/:id/graph walks dependents).
    expect(await ledger.watchDependency(a.taskId, b.taskId)).toBe("completed");
    expect(await ledger.dependentsOf(a.taskId)).toEqual([b.taskId]);
    const key = `${shardTag(shardOf(a.taskId, ledger.shards))}dependents:${a.taskId}`;
    const record = `${shardTag(shardOf(a.taskId, ledger.shards))}task:${a.taskId}`;
    // Both expire with the retention (0.5 s): polled, not a fixed second.
    await until("the record expired", async () => !(await store.exists(record)), 10_000);
    await until("its dependents expired", async () => !(await store.exists(key)), 10_000); // nothing left behind
  });

  it("the monitor ticks re-register waiting tasks 1,000 per tick, whatever waits", async () => {
    const { store, ledger } = await open();
    const dep = task();
    expect(await ledger.submit(dep)).toBe(true);
    const waiting = Array.from({ length: 2_500 }, () => task({ dependsOn: [dep.taskId] }));
    await Promise.all(waiting.map((t) => ledger.submit(t)));
    // Which tasks each tick registers again: the ledger's record reads, counted.
    const read: string[] = [];
    const get = ledger.get.bind(ledger);
    ledger.get = (id: string) => {
      read.push(id);
      return get(id);
    };
    const keeper = new WorkflowKeeper({
      ledger,
      store,
      ready: () => {},
      ended: () => {},
      submit: async () => [],
      abandon: async () => false,
    });
    const perTick: number[] = [];
    const visited: string[] = [];
    for (let tick = 0; tick < 4; tick++) {
      read.length = 0;
      await keeper.tick();
      const mine = read.filter((id) => id !== dep.taskId);
      perTick.push(mine.length);
      visited.push(...mine);
    }
    expect(perTick).toEqual([1_000, 1_000, 500, 0]);
    // Every waiting task was visited once in the pass, and registered on its dependency.
    expect(new Set(visited)).toEqual(new Set(waiting.map((t) => t.taskId)));
    expect(visited).toHaveLength(2_500);
    expect((await ledger.dependentsOf(dep.taskId)).sort()).toEqual(waiting.map((t) => t.taskId).sort());

    // A coordinator's start registers them all at once; its first tick does not start over.
    const started = new WorkflowKeeper({
      ledger,
      store,
      ready: () => {},
      ended: () => {},
      submit: async () => [],
      abandon: async () => false,
    });
    read.length = 0;
    await started.rewatchWaiting();
    expect(read.filter((id) => id !== dep.taskId)).toHaveLength(2_500);
    read.length = 0;
    await started.tick();
    expect(read.filter((id) => id !== dep.taskId)).toEqual([]);
  }, 60_000);
});
