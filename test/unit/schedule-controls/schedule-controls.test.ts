import type { Message } from "@a2a-js/sdk";
import { describe, expect, it, vi } from "vitest";
import { DispatchQueue, type TakenTask } from "../../../src/agents/distributor/dispatch-queue.js";
import { PriorityLanes } from "../../../src/agents/schedule-controls/priority-lanes.js";
import { queueByPriority, scheduleArg } from "../../../src/agents/schedule-controls/task-schedule.js";
import { readTaskInput } from "../../../src/server/a2a-gateway/task-input.js";
import { resolveSchedule } from "../../../src/server/schedule-fields.js";
import { pendingTask } from "../../helpers/task-dict.js";

const dict = pendingTask;

/** take() as the pump calls it: each task taken comes with its place, as the dispatch plan carries it. */
function takePlaced(q: DispatchQueue, max: number, fits: (t: TakenTask["task"]) => boolean = () => true) {
  const taken: TakenTask[] = [];
  q.take(max, Date.now(), (task, place) => fits(task) && taken.push({ task, place }) > 0);
  return taken;
}
const idsOf = (taken: TakenTask[]) => taken.map((t) => t.task.task_id);

describe("DispatchQueue priorities", () => {
  it("takes the highest lane first, first in first out within one; a backoff does not hold up the lane", () => {
    const q = new DispatchQueue();
    q.push(dict("a"));
    q.push(dict("b", { priority: 9 }));
    q.push(dict("c", { priority: 3 }));
    q.push(dict("d", { priority: 9 }), Date.now() + 60_000); // a retry in backoff
    q.push(dict("e", { priority: 9 }));
    q.push(dict("f"));
    expect(q.size).toBe(6);
    expect(q.take(3).map((t) => t.task_id)).toEqual(["b", "e", "c"]);
    expect(q.take(10).map((t) => t.task_id)).toEqual(["a", "f"]);
    expect(q.has("d")).toBe(true);
    expect(q.nextWakeUp()).toBeGreaterThan(Date.now());
    expect(q.delete("d")).toBe(true);
    expect(q.size).toBe(0);
  });

  it("puts tasks taken and not started back where they were in their lanes, in their order", () => {
    const q = new DispatchQueue();
    for (const [id, priority] of [
      ["a", 0],
      ["b", 5],
      ["c", 0],
      ["d", 5],
      ["e", 0],
      ["f", 5],
    ] as const)
      q.push(dict(id, { priority }));
    const taken = takePlaced(q, 3); // b, d, f
    expect(idsOf(taken)).toEqual(["b", "d", "f"]);
    q.push(dict("g", { priority: 5 }));
    const more = takePlaced(q, 2); // g, then a
    q.putFirst(taken);
    q.putFirst(more);
    // g was queued after b, d and f: it goes back behind them, whichever came back first.
    expect(q.take(10).map((t) => t.task_id)).toEqual(["b", "d", "f", "g", "a", "c", "e"]);
    expect(q.size).toBe(0);
  });

  it("puts tasks taken and not started back behind the tasks the pass skipped, in queue order", () => {
    const q = new DispatchQueue();
    for (const id of ["busy-1", "a", "busy-2", "b", "c"])
      q.push(dict(id, { task_type: id.startsWith("busy") ? "slow" : "echo" }));
    // A pass whose planner finds no room for "slow": it takes a and b, leaving the busy ones in place.
    const taken = takePlaced(q, 2, (t) => t.task_type !== "slow");
    expect(idsOf(taken)).toEqual(["a", "b"]);
    q.putFirst(taken); // its dispatch failed
    expect(q.take(10).map((t) => t.task_id)).toEqual(["busy-1", "a", "busy-2", "b", "c"]);
  });

  it("keeps no record of a task it hands out: its place travels with it, in the plan", () => {
    const q = new DispatchQueue();
    for (let i = 0; i < 100; i++) q.push(dict(`t${i}`));
    q.push(dict("first", { priority: 1 }));
    const weakMapSet = vi.spyOn(WeakMap.prototype, "set");
    const mapSet = vi.spyOn(Map.prototype, "set");
    weakMapSet.mockClear(); // spying writes a WeakMap of vitest's own
    mapSet.mockClear();
    let taken: TakenTask[];
    try {
      taken = takePlaced(q, 60);
      // What the queue writes a task taken is its type's count (Map.set), nothing that records the task.
      expect(weakMapSet.mock.calls.length, "WeakMap writes").toBe(0);
      expect(mapSet.mock.calls.length, "Map writes").toBeLessThanOrEqual(taken.length);
    } finally {
      weakMapSet.mockRestore();
      mapSet.mockRestore();
    }
    expect(taken[0]!.task.task_id).toBe("first");
    // Its dispatch failed: the plan hands the tasks back with their places, a copy of a task
    // (a dict read again) as well as the object taken.
    q.push(dict("late", { priority: 1 }));
    q.putFirst(taken.map(({ task, place }, k) => ({ task: k % 2 === 0 ? task : { ...task }, place })));
    expect(q.take(200).map((t) => t.task_id)).toEqual([
      "first",
      "late",
      ...Array.from({ length: 100 }, (_, i) => `t${i}`),
    ]);
  });

  it("holds a task placed before its run_at until then", () => {
    const q = new DispatchQueue();
    const runAt = Date.now() + 60_000;
    q.push(dict("early", { run_at: new Date(runAt).toISOString() }));
    q.push(dict("due", { run_at: new Date(Date.now() - 1000).toISOString() }));
    expect(q.take(10).map((t) => t.task_id)).toEqual(["due"]);
    expect(q.nextWakeUp()).toBe(runAt);
    expect(q.take(10, runAt).map((t) => t.task_id)).toEqual(["early"]);
  });

  it("never hands out a task whose expires_at passed before it started", () => {
    const q = new DispatchQueue();
    q.push(dict("old", { expires_at: new Date(Date.now() - 1).toISOString() }));
    q.push(dict("retry", { expires_at: new Date(Date.now() - 1).toISOString(), attempts: 1 }));
    q.push(dict("young", { expires_at: new Date(Date.now() + 60_000).toISOString() }));
    expect(q.take(10).map((t) => t.task_id)).toEqual(["retry", "young"]); // one that started runs on
  });
});

describe("a worker's backlog", () => {
  it("puts an urgent attempt ahead of prefetched lower ones, behind its equals", () => {
    const job = (id: string, priority?: number) => ({ id, task: priority === undefined ? {} : { priority } });
    const backlog = [job("low-1"), job("low-2")];
    queueByPriority(backlog, job("high-1", 9));
    queueByPriority(backlog, job("mid", 4));
    queueByPriority(backlog, job("high-2", 9));
    queueByPriority(backlog, job("low-3"));
    expect(backlog.map((j) => j.id)).toEqual(["high-1", "high-2", "mid", "low-1", "low-2", "low-3"]);
  });
});

describe("placement order and the submit argument", () => {
  it("orders by priority, first in first out within one; replacing an entry moves it to the back of its lane", () => {
    const lanes = new PriorityLanes<{ task: { priority?: number }; n: number }>();
    lanes.set("a", { task: {}, n: 1 });
    lanes.set("b", { task: { priority: 2 }, n: 2 });
    lanes.set("c", { task: {}, n: 3 });
    lanes.set("d", { task: { priority: 2 }, n: 4 });
    lanes.set("e", { task: { priority: 9 }, n: 5 });
    expect([...lanes].map(([k]) => k)).toEqual(["e", "b", "d", "a", "c"]);
    expect(lanes.size).toBe(5);
    // Replaced with another priority: leaves its old lane, joins the back of the new one.
    lanes.set("b", { task: {}, n: 6 });
    expect([...lanes].map(([k]) => k)).toEqual(["e", "d", "a", "c", "b"]);
    expect(lanes.get("b")?.n).toBe(6);
    expect(lanes.take("d")?.n).toBe(4);
    expect(lanes.delete("d")).toBe(false);
    expect(lanes.has("d")).toBe(false);
    expect([...lanes.values()].map((v) => v.n)).toEqual([5, 1, 3, 6]);
    expect(lanes.keys().sort()).toEqual(["a", "b", "c", "e"]);
    // Deleting the entry being visited, as the coordinator's placement does, visits every other once.
    const seen: string[] = [];
    for (const [id] of lanes) {
      seen.push(id);
      lanes.delete(id);
    }
    expect(seen).toEqual(["e", "a", "c", "b"]);
    expect(lanes.size).toBe(0);
    expect(lanes.inOrder()).toHaveLength(1); // lane 0 only while nothing has a priority
  });

  it("costs a plain task one empty argument", () => {
    expect(scheduleArg({}, null)).toBe("");
    expect(scheduleArg({ priority: 0 }, null)).toBe("");
    expect(
      JSON.parse(scheduleArg({ priority: 3, run_at: "2030-01-01T00:00:00Z" }, 1_893_456_000_000)),
    ).toEqual({
      priority: "3",
      run_at: "2030-01-01T00:00:00Z",
      delay_until: "1893456000000",
    });
  });
});

describe("scheduling fields at the edges", () => {
  it("turns delay_ms into run_at and refuses what JSON Schema cannot state, naming the field", () => {
    expect(resolveSchedule({ delay_ms: 1000 }, 0)).toEqual({ task: { run_at: "1970-01-01T00:00:01.000Z" } });
    expect(resolveSchedule({ delay_ms: 1, run_at: "2030-01-01T00:00:00Z" })).toMatchObject({
      field: "delay_ms",
    });
    expect(
      resolveSchedule({ run_at: "2030-01-01T00:00:00Z", expires_at: "2030-01-01T00:00:00+01:00" }),
    ).toMatchObject({ field: "expires_at" });
  });

  it("reads priority, run_at / delay_ms and expires_at from an A2A data part", () => {
    const msg = (value: unknown) =>
      ({ parts: [{ content: { $case: "data", value } }] }) as unknown as Message;
    const ok = readTaskInput(msg({ task_type: "echo", priority: 8, expires_at: "2030-01-01T00:00:00Z" }));
    expect(ok).toMatchObject({ ok: true, schedule: { priority: 8, expires_at: "2030-01-01T00:00:00Z" } });
    const delayed = readTaskInput(msg({ task_type: "echo", delay_ms: 5000 }));
    expect(delayed.ok && Date.parse(delayed.schedule!.run_at!)).toBeGreaterThan(Date.now());
    expect(readTaskInput(msg({ task_type: "echo" }))).not.toHaveProperty("schedule");
    expect(readTaskInput(msg({ task_type: "echo", priority: 11 }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining("priority"),
    });
    expect(readTaskInput(msg({ task_type: "echo", run_at: "later" }))).toMatchObject({
      ok: false,
      reason: expect.stringContaining("run_at"),
    });
  });
});
