import { describe, expect, it } from "vitest";
import { BoundedMap } from "../../../src/agents/observe/bounded-map.js";
import { TaskHistory } from "../../../src/agents/observe/task-history.js";

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
});
