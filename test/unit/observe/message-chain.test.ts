import { describe, expect, it } from "vitest";
import type { TaskEvent } from "../../../src/agents/observe/task-history.js";
import { messageChain } from "../../../src/server/dashboard/task-view.js";
import { timeline } from "../../../src/server/dashboard/timeline.js";

/** The task page's chain: each message linked to the one that caused it, for this task. */

const at = (ms: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, 0, ms)).toISOString();

describe("messageChain", () => {
  it("links assignment, attempts and the terminal report; a reassignment starts the path again", () => {
    const events: TaskEvent[] = [
      { event: "submitted", at: at(0) },
      { event: "assigned", at: at(1), distributor: "d1", request_id: "r1" },
      { event: "reassigned", at: at(2), distributor: "d1" },
      { event: "assigned", at: at(3), distributor: "d2", request_id: "r2" },
      { event: "retried", at: at(4), attempt: 1, worker: "w1", error: "boom", via: ["x1", "y1"] },
      { event: "committed", at: at(5), distributor: "d2", worker: "w2", request_id: "t1", via: ["x2", ""] },
    ];
    expect(messageChain("c", events)).toEqual([
      { kind: "assign_tasks", from: "c", to: "d1", request_id: "r1", parent_request_id: null, at: at(1) },
      { kind: "assign_tasks", from: "c", to: "d2", request_id: "r2", parent_request_id: null, at: at(3) },
      { kind: "execute_tasks", from: "d2", to: "w1", request_id: "x1", parent_request_id: "r2", at: null },
      { kind: "task_results", from: "w1", to: "d2", request_id: "y1", parent_request_id: "x1", at: null },
      { kind: "execute_tasks", from: "d2", to: "w2", request_id: "x2", parent_request_id: "y1", at: null },
      // The results message was not known: shown as unknown, and the next link names the last one known.
      { kind: "task_results", from: "w2", to: "d2", request_id: null, parent_request_id: "x2", at: null },
      { kind: "task_terminal", from: "d2", to: "c", request_id: "t1", parent_request_id: "x2", at: at(5) },
    ]);
  });

  it("walks the events in time order, not in the order recorded (retries come with the end; another coordinator's reassignment from the store comes last)", () => {
    // As taskView gives them: this coordinator's trail (the retry on d1, reported with the end,
    // appended after the second assignment), then the reassignment another coordinator recorded.
    const recorded: TaskEvent[] = [
      { event: "submitted", at: at(0) },
      { event: "assigned", at: at(1), distributor: "d1", request_id: "r1" },
      { event: "assigned", at: at(5), distributor: "d2", request_id: "r2" },
      { event: "retried", at: at(2), attempt: 1, worker: "w1", error: "boom", via: ["x1", "y1"] },
      { event: "committed", at: at(9), distributor: "d2", worker: "w2", request_id: "t1", via: ["x2", "y2"] },
      { event: "reassigned", at: at(4), distributor: "d1" },
    ];
    const inOrder = [0, 1, 3, 5, 2, 4].map((i) => recorded[i]!);
    expect(messageChain("c", recorded)).toEqual(messageChain("c", inOrder));
    // The retry ran on d1, after d1's assignment: its messages are d1's, caused by r1.
    expect(messageChain("c", recorded).slice(0, 3)).toEqual([
      { kind: "assign_tasks", from: "c", to: "d1", request_id: "r1", parent_request_id: null, at: at(1) },
      { kind: "execute_tasks", from: "d1", to: "w1", request_id: "x1", parent_request_id: "r1", at: null },
      { kind: "task_results", from: "w1", to: "d1", request_id: "y1", parent_request_id: "x1", at: null },
    ]);
  });

  it("keeps the order given for events of the same millisecond (the end after the rest)", () => {
    const events: TaskEvent[] = [
      { event: "committed", at: at(3), distributor: "d1", worker: "w1", request_id: "t1", via: ["x2", "y2"] },
      { event: "assigned", at: at(3), distributor: "d1", request_id: "r1" },
      { event: "retried", at: at(3), attempt: 1, worker: "w1", error: "boom", via: ["x1", "y1"] },
    ];
    expect(messageChain("c", events).map((l) => l.request_id)).toEqual(["r1", "x1", "y1", "x2", "y2", "t1"]);
  });

  it("is empty for a task the coordinator only saw submitted", () => {
    expect(messageChain("c", [{ event: "submitted", at: at(0) }])).toEqual([]);
  });
});

/** The dict of a task completed by w1 on its first attempt, started and completed at these offsets. */
function completedTask(started: number, completed: number) {
  return {
    task_id: "t",
    task_type: "echo",
    payload: {},
    status: "completed" as const,
    result: null,
    error: null,
    attempts: 1,
    assigned_to: "w1",
    created_at: at(0),
    started_at: at(started),
    completed_at: at(completed),
  };
}

describe("timeline", () => {
  it("adds the start of the last attempt from the task dict, in time order", () => {
    const steps = timeline(
      [
        { event: "submitted", at: at(0) },
        { event: "assigned", at: at(1), distributor: "d1" },
        { event: "committed", at: at(9), status: "completed" },
      ],
      completedTask(5, 9),
    );
    expect(steps.map((s) => s.event)).toEqual(["submitted", "assigned", "started", "committed"]);
    expect(steps[2]).toEqual({ event: "started", at: at(5), worker: "w1", attempt: 1 });
  });

  it("puts a start in the same millisecond as the commit before it (a lone task takes less)", () => {
    const steps = timeline(
      [
        { event: "submitted", at: at(0) },
        { event: "assigned", at: at(0), distributor: "d1" },
        { event: "committed", at: at(0), status: "completed" },
      ],
      completedTask(0, 0),
    );
    expect(steps.map((s) => s.event)).toEqual(["submitted", "assigned", "started", "committed"]);
  });

  it("puts a start stamped by a clock behind the coordinator's after its assignment, before its end", () => {
    // The distributor's clock is 3 ms behind: its started_at reads before the assignment.
    const steps = timeline(
      [
        { event: "submitted", at: at(0) },
        { event: "assigned", at: at(10), distributor: "d1" },
        { event: "committed", at: at(12), status: "completed" },
      ],
      completedTask(7, 12),
    );
    expect(steps.map((s) => s.event)).toEqual(["submitted", "assigned", "started", "committed"]);
    expect(steps[2]?.at).toBe(at(7)); // the time is still shown as recorded
  });

  it("puts the start of a later attempt after the earlier attempt's retry, and before a clock ahead's end", () => {
    const task = { ...completedTask(20, 21), attempts: 2 };
    const steps = timeline(
      [
        { event: "submitted", at: at(0) },
        { event: "assigned", at: at(1), distributor: "d1" },
        { event: "retried", at: at(30), attempt: 1, worker: "w1", error: "boom" },
        { event: "committed", at: at(31), status: "completed", attempt: 2 },
      ],
      task,
    );
    expect(steps.map((s) => s.event)).toEqual(["submitted", "assigned", "retried", "started", "committed"]);
  });

  it("puts the start of an attempt that failed and waits for its retry before that retry", () => {
    const task = { ...completedTask(5, 9), status: "pending" as const, completed_at: null, attempts: 1 };
    const steps = timeline(
      [
        { event: "submitted", at: at(0) },
        { event: "assigned", at: at(1), distributor: "d1" },
        { event: "retried", at: at(3), attempt: 1, worker: "w1", error: "boom" },
      ],
      task,
    );
    expect(steps.map((s) => s.event)).toEqual(["submitted", "assigned", "started", "retried"]);
  });

  it("shows the start of an attempt its dead distributor's reassignment ended, before it, and the next attempt's after", () => {
    const reassigned: TaskEvent = {
      event: "reassigned",
      at: at(20),
      distributor: "d1",
      attempt: 1,
      worker: "w1",
      started_at: at(3),
    };
    const events: TaskEvent[] = [
      { event: "submitted", at: at(0) },
      { event: "assigned", at: at(1), distributor: "d1" },
      reassigned,
      { event: "assigned", at: at(21), distributor: "d2" },
    ];
    // Placed again, not started yet: the ledger's started_at is still the first attempt's.
    const waiting = {
      ...completedTask(3, 0),
      status: "pending" as const,
      completed_at: null,
      assigned_to: null,
    };
    expect(timeline(events, waiting)).toEqual([
      events[0],
      events[1],
      { event: "started", at: at(3), worker: "w1", attempt: 1 },
      reassigned,
      events[3],
    ]);
    // Then the second attempt ran on d2's worker and was committed.
    const done = { ...completedTask(22, 25), attempts: 2, assigned_to: "w2" };
    const committed: TaskEvent = { event: "committed", at: at(25), status: "completed", attempt: 2 };
    expect(timeline([...events, committed], done)).toEqual([
      events[0],
      events[1],
      { event: "started", at: at(3), worker: "w1", attempt: 1 },
      reassigned,
      events[3],
      { event: "started", at: at(22), worker: "w2", attempt: 2 },
      committed,
    ]);
  });
});
