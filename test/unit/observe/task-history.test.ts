import { describe, expect, it, vi } from "vitest";
import { BoundedMap } from "../../../src/agents/observe/bounded-map.js";
import { TaskHistory } from "../../../src/agents/observe/task-history.js";
import type { TaskDict } from "../../../src/agents/protocol.js";

/** The coordinator's memory of tasks is bounded in tasks and in events per task. */

describe("TaskHistory", () => {
  it("forgets the oldest tasks beyond its limit", () => {
    const history = new TaskHistory(4);
    for (let i = 1; i <= 9; i++) history.add(`t${i}`, { event: "submitted", t: i });
    history.add("t9", { event: "assigned", t: 10, distributor: "d1" });
    expect(history.size).toBeLessThanOrEqual(4);
    expect(history.get("t1")).toEqual([]);
    expect(history.get("t9")).toEqual([
      { event: "submitted", at: "1970-01-01T00:00:00.009Z" },
      { event: "assigned", at: "1970-01-01T00:00:00.010Z", distributor: "d1" },
    ]);
  });

  it("keeps the first event and the latest ones of a long-lived task", () => {
    const history = new TaskHistory(10, 4);
    history.add("t", { event: "submitted", t: 0 });
    for (let i = 1; i <= 6; i++) history.add("t", { event: "retried", t: i, attempt: i });
    expect(history.get("t").map((e) => e.attempt ?? 0)).toEqual([0, 4, 5, 6]);
  });

  it("answers copies, and the terminal event when there is one", () => {
    const history = new TaskHistory();
    history.add("t", { event: "submitted", t: 0 });
    history.get("t")[0]!.event = "abandoned";
    expect(history.terminal("t")).toBeUndefined();
    history.add("t", { event: "committed", t: 1, status: "completed" });
    expect(history.terminal("t")).toMatchObject({ status: "completed" });
  });
});

describe("TaskHistory trails", () => {
  const task = (status: string) =>
    ({ task_id: "t", status, assigned_to: "w1", attempts: 1, error: null }) as unknown as TaskDict;
  const arrival = { request_id: "r-terminal", sender: "d1", traces: undefined, via: ["r-exec", "r-res"] };

  it("reads a followed task's steps in the order they came, from members and events alike", () => {
    const history = new TaskHistory();
    const trail = history.follow("t", undefined)!;
    history.submitted(trail, 1, "echo");
    const assign = { event: "assigned" as const, t: 2, distributor: "d1", request_id: "r-assign" };
    history.assigned(trail, assign);
    history.add("t", { event: "reassigned", t: 3, distributor: "d1" });
    history.assigned(history.trail("t"), { ...assign, t: 4, distributor: "d2" });
    history.committed(history.ending("t"), 5, task("completed"));
    expect(history.get("t").map((e) => `${e.event}:${e.distributor ?? ""}`)).toEqual([
      "submitted:",
      "assigned:d1",
      "reassigned:d1",
      "assigned:d2",
      "committed:",
    ]);
    expect(history.followed).toBe(0);
    // The message that told of the end completes the committed event, even when it comes after.
    history.trail("t").arrival = arrival;
    expect(history.terminal("t")).toMatchObject({
      event: "committed",
      status: "completed",
      worker: "w1",
      distributor: "d1",
      request_id: "r-terminal",
      via: ["r-exec", "r-res"],
    });
  });

  it("a new submit of an id shows its own trail; let go, the older one shows again", () => {
    const history = new TaskHistory();
    history.submitted(history.follow("t", undefined)!, 1, "first");
    history.committed(history.ending("t"), 2, task("failed"));
    const again = history.follow("t", undefined)!;
    history.submitted(again, 3, "second");
    expect(history.get("t").map((e) => e.task_type ?? e.status)).toEqual(["second"]);
    expect(history.follow("t", undefined)).toBeUndefined(); // already followed
    history.letGo("t");
    expect(history.get("t").map((e) => e.task_type ?? e.status)).toEqual(["first", "failed"]);
  });
});

describe("BoundedMap", () => {
  it("holds at most its limit, forgetting the oldest writes first", () => {
    const m = new BoundedMap<string, { n: number }>(4);
    for (const [k, n] of [
      ["a", 1],
      ["b", 2],
      ["c", 3],
      ["a", 4],
      ["d", 5],
    ] as const)
      m.set(k, { n });
    expect([...m.entries()].map(([k, v]) => `${k}${v.n}`)).toEqual(["c3", "a4", "d5"]);
    expect(m.has("b")).toBe(false);
    for (let i = 0; i < 100; i++) m.set(`k${i}`, { n: i });
    expect(m.size).toBeLessThanOrEqual(4);
    expect(m.get("k99")).toEqual({ n: 99 });
    expect(m.delete("k99")).toBe(true);
    expect(m.has("k99")).toBe(false);
  });
  it("writes over a current key in place, and moves a key of the old generation (it lives longer)", () => {
    const m = new BoundedMap<string, { n: number }>(4); // generations of 2
    m.set("a", { n: 1 });
    m.set("a", { n: 2 }); // in place: no new generation
    m.set("b", { n: 3 }); // full: a and b are the old generation now
    m.set("a", { n: 4 }); // moves a to the current one
    m.set("c", { n: 5 }); // full again: b is dropped, a and c stay
    expect([...m.entries()].map(([k, v]) => `${k}${v.n}`)).toEqual(["a4", "c5"]);
    expect(m.size).toBe(2);
  });

  /** Map lookups and writes made by `run` on any Map (the call is synchronous: only the BoundedMap's). */
  function mapOps(run: () => void): number {
    const spies = (["get", "has", "set", "delete"] as const).map((name) => vi.spyOn(Map.prototype, name));
    try {
      run();
      return spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }

  it("costs one Map operation a generation at most: set() a new key two, an empty old generation none", () => {
    const m = new BoundedMap<string, { n: number }>(10);
    expect(mapOps(() => m.get("x"))).toBe(1); // the old generation is empty: not looked in
    expect(mapOps(() => m.has("x"))).toBe(1);
    expect(mapOps(() => m.delete("x"))).toBe(1);
    expect(mapOps(() => m.set("a", { n: 1 }))).toBe(1);
    for (let i = 0; i < 5; i++) m.add(`k${i}`, { n: i }); // a full generation: now the old one
    expect(mapOps(() => m.set("b", { n: 2 }))).toBe(2); // written, and deleted from the old one
    expect(mapOps(() => m.set("b", { n: 3 }))).toBe(1); // written over in place
    expect(mapOps(() => m.get("x"))).toBe(2);
    expect(m.get("b")).toEqual({ n: 3 });
    expect(m.get("k0")).toEqual({ n: 0 });
  });
});
