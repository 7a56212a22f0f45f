import { describe, expect, it } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { taskDictSchema } from "../../../src/agents/protocol.js";
import { Task } from "../../../src/index.js";

/** What submitTask makes of its input: the fast path for fresh tasks agrees with the general one. */

const general = (input: Record<string, unknown>) =>
  taskDictSchema.parse(Task.fromDict({ payload: {}, ...input }).toDict());

describe("toDict", () => {
  it("turns { task_id, task_type, payload } into the same pending dict as Task.fromDict", () => {
    for (const input of [
      { task_id: "t1", task_type: "echo", payload: { a: [1, "x", null, { b: true }] } },
      { task_id: "t2", task_type: "compute" },
      { task_id: "t3", task_type: "sleep", payload: {} },
      { task_id: "t6", task_type: "join", depends_on: ["t1", "t2"] },
      {
        task_id: "t7",
        task_type: "join",
        depends_on: ["t1"],
        on_dependency_failure: "run",
        payload: { k: 1 },
      },
      { task_id: "t8", task_type: "join", on_dependency_failure: "abandon" },
    ]) {
      const fast = toDict(input);
      const slow = general(input);
      expect({ ...fast, created_at: "" }).toEqual({ ...slow, created_at: "" });
      expect(Number.isNaN(Date.parse(fast.created_at))).toBe(false);
    }
  });

  it("keeps what a fuller dict says, and a Task's own fields", () => {
    const dict = { task_id: "t4", task_type: "echo", payload: {}, created_at: "2020-01-02T03:04:05.000Z" };
    expect(toDict(dict).created_at).toBe("2020-01-02T03:04:05.000Z");
    const task = new Task({ taskId: "t5", taskType: "echo", payload: { x: 1 } });
    expect(toDict(task)).toEqual(task.toDict());
  });

  it("refuses what the general path refuses, with its error", () => {
    const bad: Array<Record<string, unknown>> = [
      { task_id: "", task_type: "echo" },
      { task_id: "t", task_type: "echo", payload: [] },
      { task_id: "t", task_type: "echo", payload: { n: Number.NaN } },
      { task_id: "t", task_type: "echo", payload: { f: () => 1 } },
      { task_id: "t", task_type: "echo", nope: 1 },
      { task_id: "x".repeat(201), task_type: "echo" },
      { task_id: "t", task_type: "echo", depends_on: [""] },
      { task_id: "t", task_type: "echo", depends_on: "t1" },
      { task_id: "t", task_type: "echo", depends_on: [7] },
      { task_id: "t", task_type: "echo", on_dependency_failure: "maybe" },
    ];
    for (const input of bad) {
      expect(() => toDict(input)).toThrow(expect.objectContaining({ code: "ERR_INVALID_TASK" }));
    }
  });

  it("refuses a Map or a Set in the payload (JSON would write it as {}), naming it by one path; a Date is its ISO text", () => {
    for (const [payload, message] of [
      [{ counts: new Map([["a", 1]]) }, "invalid task.payload.counts: a Map is not JSON"],
      [{ a: [1, { seen: new Set([1]) }] }, "invalid task.payload.a[1].seen: a Set is not JSON"],
      [{ n: Number.NaN }, "invalid task.payload.n: NaN is not a finite number"],
    ] as const) {
      const refusal = expect.objectContaining({
        code: "ERR_INVALID_TASK",
        message: expect.stringContaining(message),
      });
      expect(() => toDict({ task_id: "t", task_type: "echo", payload })).toThrow(refusal);
      expect(() => toDict(new Task({ taskId: "t", taskType: "echo", payload: payload as never }))).toThrow(
        refusal,
      );
    }
    const dated = toDict({ task_id: "t", task_type: "echo", payload: { at: new Date(0) } });
    expect(dated.payload).toEqual({ at: "1970-01-01T00:00:00.000Z" });
  });
});
