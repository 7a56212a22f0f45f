import { describe, expect, it } from "vitest";
import { committedTask } from "../../../src/agents/distributor/committed-task.js";
import { taskDictSchema } from "../../../src/agents/protocol.js";
import { inTaskOrder } from "../../../src/agents/task-order.js";

const SPEC_ORDER = Object.keys(taskDictSchema.shape);
const held = {
  task_id: "t1",
  task_type: "echo",
  payload: { i: 1 },
  status: "in_progress" as const,
  result: null,
  error: null,
  attempts: 1,
  assigned_to: "w1",
  created_at: "2026-01-01T00:00:00.000Z",
  started_at: "2026-01-01T00:00:01.000Z",
  completed_at: null,
};
const receipt = {
  verdict: "completed" as const,
  attempts: 1,
  assignedTo: "w1",
  startedAt: "2026-01-01T00:00:01.000Z",
  notBefore: null,
  completedAt: "2026-01-01T00:00:02.000Z",
};

/**
 * A reported task dict comes to the coordinator in the order its distributor wrote it (sorted,
 * canonical JSON's) and is answered in SPEC's (task-order.ts). Nearly every report is a plain
 * task's dict (committed-task.ts): it is reordered as one literal, with the same members and
 * values as the general reordering gives (docs/PERFORMANCE.md, "Thirty-seventh session").
 */
describe("inTaskOrder", () => {
  it("puts a plain task's reported dict in SPEC's order, every member and value kept", () => {
    const reported = committedTask(
      held,
      { task_id: "t1", fence: 1, status: "completed", result: { ok: true } },
      receipt,
    );
    expect(Object.keys(reported)).toEqual([...Object.keys(reported)].sort());
    const ordered = inTaskOrder(reported);
    expect(Object.keys(ordered)).toEqual(SPEC_ORDER.filter((key) => key in reported));
    expect(ordered).toEqual(reported);
    expect(ordered).not.toBe(reported);
  });

  it("reorders a sorted dict with more members, or fewer, the general way", () => {
    const reported = committedTask(
      held,
      { task_id: "t1", fence: 1, status: "completed", result: 1 },
      receipt,
    );
    const more = { ...reported, parent_id: "p1", progress: 3, zzz_unknown: 1 };
    const fewer: Record<string, unknown> = { ...reported };
    delete fewer.started_at;
    for (const dict of [more, fewer]) {
      const ordered = inTaskOrder(dict);
      expect(Object.keys(ordered)).toEqual([
        ...SPEC_ORDER.filter((key) => key in dict),
        ...Object.keys(dict).filter((key) => !SPEC_ORDER.includes(key)),
      ]);
      expect(ordered).toEqual(dict);
    }
  });

  it("answers a dict already in SPEC's order as it is", () => {
    const inOrder = inTaskOrder(
      committedTask(held, { task_id: "t1", fence: 1, status: "completed" }, receipt),
    );
    expect(inTaskOrder(inOrder)).toBe(inOrder);
  });
});
