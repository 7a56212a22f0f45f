import { describe, expect, it } from "vitest";
import { committedTask } from "../../../src/agents/distributor/committed-task.js";
import type { CommitReceipt } from "../../../src/agents/ledger/task-ledger.js";
import type { AttemptOutcomeWire, TaskDict } from "../../../src/agents/protocol.js";

/** The dict a commit made: the held dict, what the attempt gave and what the commit wrote; members in sorted order. */

const held: TaskDict = {
  task_id: "t1",
  task_type: "echo",
  payload: { i: 1 },
  status: "in_progress",
  result: null,
  error: null,
  attempts: 1,
  assigned_to: "w1",
  created_at: "2026-12-05T00:00:00.000Z",
  started_at: null,
  completed_at: null,
};
const receipt: CommitReceipt = {
  verdict: "completed",
  attempts: 1,
  assignedTo: "w1",
  startedAt: "2026-12-05T00:00:01.000Z",
  notBefore: null,
  completedAt: "2026-12-05T00:00:02.000Z",
};
const outcome: AttemptOutcomeWire = { task_id: "t1", fence: 1, status: "completed", result: { i: 1 } };
const sorted = (o: object) => [...Object.keys(o)].sort();

describe("committedTask", () => {
  it("makes a plain task's dict with the commit's fields, members sorted", () => {
    const task = committedTask(held, outcome, receipt);
    expect(task).toEqual({
      assigned_to: "w1",
      attempts: 1,
      completed_at: "2026-12-05T00:00:02.000Z",
      created_at: "2026-12-05T00:00:00.000Z",
      error: null,
      payload: { i: 1 },
      result: { i: 1 },
      started_at: "2026-12-05T00:00:01.000Z",
      status: "completed",
      task_id: "t1",
      task_type: "echo",
    });
    expect(Object.keys(task)).toEqual(sorted(task));
  });

  it("carries progress, workflow, schedule and input keys; a retry is pending again", () => {
    const rich: TaskDict = {
      ...held,
      depends_on: ["a"],
      parent_id: "p",
      priority: 5,
      input_timeout_ms: 1000,
      inputs: ["yes"],
    };
    const task = committedTask(
      rich,
      { task_id: "t1", fence: 1, status: "failed", error: "boom", progress: { at: 3 } },
      { ...receipt, verdict: "retry", completedAt: null },
    );
    expect(task).toMatchObject({
      status: "pending",
      error: "boom",
      result: null,
      assigned_to: null,
      completed_at: null,
      progress: { at: 3 },
      depends_on: ["a"],
      waiting_on: [],
      parent_id: "p",
      priority: 5,
      input_timeout_ms: 1000,
      inputs: ["yes"],
    });
    // Progress written before, and none from this attempt: the earlier one stays.
    expect(committedTask({ ...held, progress: 7 }, outcome, receipt).progress).toBe(7);
  });
});
