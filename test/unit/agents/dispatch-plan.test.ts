import { describe, expect, it } from "vitest";
import { DispatchPlanner } from "../../../src/agents/distributor/dispatch-plan.js";
import { WorkerRegistry } from "../../../src/agents/distributor/worker-registry.js";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { pendingTask } from "../../helpers/task-dict.js";

/** The pump's plan: each task to a worker with room that runs its type, round robin, one slot at a time. */

const task = (id: string, type: string): TaskDict => pendingTask(id, { task_type: type });

function registry(workers: Array<{ id: string; capacity: number; types: string[] }>) {
  const r = new WorkerRegistry(1);
  for (const w of workers) {
    const entry = r.upsert(w.id, { capacity: w.capacity });
    entry.taskTypes = w.types;
  }
  return r;
}

const plan = (r: WorkerRegistry, tasks: TaskDict[]) => {
  const planner = new DispatchPlanner(r.alive(), r);
  const waiting = tasks.filter((t) => !planner.add(t));
  return {
    to: planner.plan.map((p) => `${p.task.task_id}>${p.worker.id}`),
    waiting: waiting.map((t) => t.task_id),
  };
};

describe("DispatchPlanner", () => {
  it("spreads the tasks of a type over the workers that run it, in turn, within their room", () => {
    // Room is PREFETCH (2) x capacity: a holds 2, b holds 4; c runs another type.
    const r = registry([
      { id: "a", capacity: 1, types: ["x"] },
      { id: "b", capacity: 2, types: ["x"] },
      { id: "c", capacity: 5, types: ["y"] },
    ]);
    const tasks = ["1", "2", "3", "4", "5", "6", "7"].map((id) => task(id, "x"));
    expect(plan(r, tasks)).toEqual({
      // Every slot that runs a task now first (a 1, b 2), then the rooms' queues in turn.
      to: ["1>a", "2>b", "3>b", "4>b", "5>a", "6>b"],
      waiting: ["7"],
    });
  });

  it("sends a task arriving alone to an idle worker, not into the room of one busy with a long attempt", () => {
    // Tasks submitted one by one are planned one per pass: each went to the first worker with
    // room, to wait there behind its running attempt (a 20-s sleep) while the other idled.
    const r = registry([
      { id: "a", capacity: 1, types: ["sleep", "echo"] },
      { id: "b", capacity: 1, types: ["sleep", "echo"] },
    ]);
    expect(plan(r, [task("1", "sleep")]).to).toEqual(["1>a"]);
    expect(plan(r, [task("2", "echo")]).to).toEqual(["2>b"]);
    // Both busy: the next waits in a room, in turn.
    expect(plan(r, [task("3", "echo")]).to).toEqual(["3>a"]);
  });

  it("keeps a task for later when only busy workers run its type, and gives one no worker runs to any with room", () => {
    const r = registry([
      { id: "a", capacity: 1, types: ["x"] },
      { id: "c", capacity: 1, types: ["y"] },
    ]);
    const full = ["1", "2"].map((id) => task(id, "x"));
    expect(plan(r, full).to).toEqual(["1>a", "2>a"]);
    // a has no room left: an x waits; a type nobody runs goes to c, to fail there at once.
    expect(plan(r, [task("3", "x"), task("4", "z")])).toEqual({ to: ["4>c"], waiting: ["3"] });
  });

  it("assumes a worker not heard from yet runs the built-in types; another type waits until it says what it runs", () => {
    const r = registry([
      { id: "new", capacity: 1, types: [] },
      { id: "old", capacity: 1, types: ["y"] },
    ]);
    // "custom" may be one of new's: it waits (sent to old meanwhile, it would fail an attempt there).
    expect(plan(r, [task("1", "echo"), task("2", "custom")])).toEqual({
      to: ["1>new"],
      waiting: ["2"],
    });
    r.get("new")!.taskTypes = ["echo"];
    expect(plan(r, [task("3", "custom")]).to).toEqual([expect.stringMatching(/^3>(new|old)$/)]);
  });

  it("keeps a task for later while the only worker that runs its type is dead but remembered (a restart brings it back)", () => {
    const r = registry([
      { id: "special", capacity: 1, types: ["x"] },
      { id: "plain", capacity: 1, types: ["echo"] },
    ]);
    r.get("special")!.status = "dead"; // kill -9: declared dead, its attempts taken back
    // Sent to plain, x would fail every retry there at once ("unknown task type"): it waits.
    expect(plan(r, [task("1", "x"), task("2", "echo")])).toEqual({ to: ["2>plain"], waiting: ["1"] });
    // The worker is back (a restart, or another that runs x): it gets it.
    r.upsert("special2", { capacity: 1 }).taskTypes = ["x"];
    expect(plan(r, [task("1", "x")]).to).toEqual(["1>special2"]);
    // Once the registry has forgotten the dead one (a minute), a type nobody runs fails at once.
    const forgotten = registry([{ id: "plain", capacity: 1, types: ["echo"] }]);
    expect(plan(forgotten, [task("3", "x")]).to).toEqual(["3>plain"]);
  });
});
