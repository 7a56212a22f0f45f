import { describe, expect, it } from "vitest";
import { SUBMIT_CHUNK, type Submitter, submitOne } from "../../bench/lib/resend.js";
import { pushTasks } from "../../bench/memory.js";

/**
 * bench/memory.ts on a slow store: its warm-up sent 20,000 tasks in one submitTasks, the store's
 * 5 s timeout answered it with 11,000 not recorded, and the run ended there. A store stand-in
 * that answers like that one (a batch over SUBMIT_CHUNK times out with part of it recorded; a
 * timeout now and then after the script ran, the task recorded all the same) must still get
 * every task recorded once, in calls of at most SUBMIT_CHUNK.
 */
type Task = { task_id: string; task_type: string; payload: unknown };
const timeout = () =>
  Object.assign(new Error("the store did not answer in time"), { code: "ERR_STORE_TIMEOUT" });

function slowStore(options: { timeoutEvery: number }) {
  const recorded = new Map<string, number>();
  const sizes: number[] = [];
  let calls = 0;
  const record = (t: Task) => {
    const created = !recorded.has(t.task_id);
    if (created) recorded.set(t.task_id, 0);
    return created;
  };
  const store: Submitter = {
    async submitTasksSettled(tasks: Task[]) {
      sizes.push(tasks.length);
      calls++;
      if (tasks.length > SUBMIT_CHUNK) {
        // The first shard's script ran; the rest did not answer in time.
        return tasks.map((t, i) =>
          i < tasks.length / 2
            ? { task_id: t.task_id, created: record(t) }
            : { task_id: t.task_id, error: { code: "ERR_STORE_TIMEOUT", message: "timeout" } },
        );
      }
      if (calls % options.timeoutEvery === 0) {
        for (const t of tasks) record(t); // recorded, but the answer came too late
        throw timeout();
      }
      return tasks.map((t) => ({ task_id: t.task_id, created: record(t) }));
    },
    async submitTask(task: Task) {
      calls++;
      const created = record(task);
      if (calls % options.timeoutEvery === 0) throw timeout();
      return created;
    },
  };
  return { store, recorded, sizes };
}

describe("bench/memory.ts submits on a store that times out", () => {
  it("records a warm-up of 20,000 tasks once each, in calls of at most SUBMIT_CHUNK, resending what timed out", async () => {
    const { store, recorded, sizes } = slowStore({ timeoutEvery: 3 });
    const count = { resent: 0 };
    const ids = await pushTasks(store, 0, 20_000, "warm", count);
    expect(ids).toHaveLength(20_000);
    expect(new Set(ids).size).toBe(20_000);
    expect([...recorded.keys()].sort()).toEqual([...ids].sort());
    expect(Math.max(...sizes)).toBeLessThanOrEqual(SUBMIT_CHUNK);
    expect(count.resent).toBeGreaterThan(0);
  });

  it("submitOne counts a task recorded by a send that timed out as recorded", async () => {
    const { store, recorded } = slowStore({ timeoutEvery: 1 + 1 });
    const count = { resent: 0 };
    expect(await submitOne(store, { task_id: "a", task_type: "echo", payload: {} }, count)).toBe(true);
    // Call 2 timed out after recording "b"; call 3 finds it recorded.
    expect(await submitOne(store, { task_id: "b", task_type: "echo", payload: {} }, count)).toBe(true);
    expect(count.resent).toBe(1);
    expect([...recorded.keys()]).toEqual(["a", "b"]);
  });

  it("throws an error that is not the store's at once, without sending again", async () => {
    let sends = 0;
    const refusing: Submitter = {
      async submitTask() {
        sends++;
        throw Object.assign(new Error("bad"), { code: "ERR_INVALID_TASK" });
      },
      async submitTasksSettled(tasks) {
        sends++;
        return tasks.map((t) => ({
          task_id: t.task_id,
          error: { code: "ERR_INVALID_TASK", message: "bad" },
        }));
      },
    };
    await expect(pushTasks(refusing, 0, 10, "x", { resent: 0 })).rejects.toThrow(/ERR_INVALID_TASK/);
    await expect(submitOne(refusing, { task_id: "y", task_type: "echo", payload: {} })).rejects.toThrow(
      /bad/,
    );
    expect(sends).toBe(2);
  });
});
