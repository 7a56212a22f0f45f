import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { TaskWaiters } from "../../../src/agents/coordinator/task-waiters.js";
import type { TaskDict } from "../../../src/agents/protocol.js";

/** waitForTask's bookkeeping: every waiter gets the task, or null once its own time is up. */

/** A full garbage collection, without starting node with --expose-gc. */
function collectGarbage(): void {
  setFlagsFromString("--expose-gc");
  (runInNewContext("gc") as () => void)();
}

const task = (id: string) => ({ task_id: id, status: "completed" }) as TaskDict;

describe("TaskWaiters", () => {
  it("hands a finished task to everyone waiting for it, and forgets them", async () => {
    const w = new TaskWaiters();
    const a = w.wait("t1", 10_000);
    const b = w.wait("t1", 10_000);
    const other = w.wait("t2", 10_000);
    w.resolve("t1", task("t1"));
    expect(await a).toEqual(task("t1"));
    expect(await b).toEqual(task("t1"));
    expect(w.has("t1")).toBe(false);
    expect(w.has("t2")).toBe(true);
    w.closeAll();
    expect(await other).toBeNull();
  });

  it("answers null to a waiter whose time is up, and only to that one", async () => {
    const w = new TaskWaiters();
    const short = w.wait("t1", 20);
    const long = w.wait("t1", 10_000);
    expect(await short).toBeNull();
    expect(w.has("t1")).toBe(true);
    w.resolve("t1", task("t1"));
    expect(await long).toEqual(task("t1"));
    w.closeAll();
  });

  it("keeps every deadline among thousands of waiters, most answered early", async () => {
    const w = new TaskWaiters();
    const n = 5000;
    const waits = Array.from({ length: n }, (_, i) => w.wait(`t${i}`, 30 + (i % 7) * 5));
    for (let i = 0; i < n; i++) if (i % 10 !== 0) w.resolve(`t${i}`, task(`t${i}`));
    const results = await Promise.all(waits);
    results.forEach((r, i) => {
      expect(r).toEqual(i % 10 === 0 ? null : task(`t${i}`));
    });
    expect(w.size).toBe(0);
    w.closeAll();
  });

  it("hands out the longest-unchecked waiters for a catch-up read, a bounded number at a time", async () => {
    const w = new TaskWaiters();
    for (let i = 0; i < 5; i++) void w.wait(`t${i}`, 10_000);
    const now = performance.now();
    expect(w.due(now, 1000, 1000, 10)).toEqual([]); // too young
    expect(w.due(now + 1000, 1000, 2000, 3)).toEqual(["t0", "t1", "t2"]);
    expect(w.due(now + 1000, 1000, 2000, 3)).toEqual(["t3", "t4"]);
    expect(w.due(now + 2000, 1000, 2000, 10)).toEqual([]); // checked a moment ago
    expect(w.due(now + 3001, 1000, 2000, 10)).toEqual(["t0", "t1", "t2", "t3", "t4"]);
    w.closeAll();
  });

  it("does not keep a task it handed out alive until the waiter's deadline", async () => {
    const w = new TaskWaiters();
    // Answered waiters stay in the deadline heap until their time is up (minutes, for a
    // waitForTask over REST); what they were answered with must not stay with them.
    const answer = async (i: number): Promise<WeakRef<TaskDict>> => {
      const waiting = w.wait(`t${i}`, 600_000);
      const t = { ...task(`t${i}`), result: { big: "x".repeat(1000) } } as TaskDict;
      w.resolve(`t${i}`, t);
      expect(await waiting).toBe(t);
      return new WeakRef(t);
    };
    const refs: Array<WeakRef<TaskDict>> = [];
    for (let i = 0; i < 200; i++) refs.push(await answer(i));
    void w.wait("still-open", 600_000); // the heap is not emptied by a last waiter leaving
    await new Promise((r) => setImmediate(r));
    collectGarbage();
    expect(refs.filter((r) => r.deref() !== undefined)).toHaveLength(0);
    w.closeAll();
  });
});
