import { describe, expect, it } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { checkLimit, parseLimitFlag } from "../../../src/agents/limits/limit-spec.js";
import { taskDictSchema as wireTask } from "../../../src/agents/protocol.js";
import { checkSchedule } from "../../../src/agents/schedules/schedule-spec.js";
import { SpawnList } from "../../../src/agents/workflow/spawn-list.js";
import { MAX_TASK_TYPE_LENGTH } from "../../../src/index.js";
import { readTaskInput } from "../../../src/server/a2a-gateway/task-input.js";
import { newTask } from "../../../src/server/http-schemas.js";

/**
 * One bound on a task type's length, wherever a type is given: a submitted or spawned task, a
 * limit, a schedule, POST /tasks, the A2A gateway and the messages between agents. A type one
 * takes is never refused by another (schedules took 200 characters, limits 256, submitTask any).
 */

const atBound = "t".repeat(MAX_TASK_TYPE_LENGTH);
const over = "t".repeat(MAX_TASK_TYPE_LENGTH + 1);
const refused = (code: string, message: RegExp) =>
  expect.objectContaining({ code, message: expect.stringMatching(message) });

describe("the task type bound", () => {
  it("is 200 characters, as task ids (the messages between agents never carried longer)", () => {
    expect(MAX_TASK_TYPE_LENGTH).toBe(200);
  });

  it("a submitted task: its type at the bound is taken, one longer is refused with ERR_INVALID_TASK", () => {
    expect(toDict({ task_id: "t1", task_type: atBound }).task_type).toBe(atBound);
    expect(() => toDict({ task_id: "t1", task_type: over })).toThrow(
      refused("ERR_INVALID_TASK", /task_type must be at most 200 characters \(got 201\)/),
    );
  });

  it("a spawned task", () => {
    expect(new SpawnList("p").add([{ task_type: atBound }])).toEqual(["p.1"]);
    expect(() => new SpawnList("p").add([{ task_type: over }])).toThrow(
      refused("ERR_INVALID_TASK", /task_type must be at most 200 characters/),
    );
  });

  it("a limit (setLimit, PUT /limits/:task_type, --limit)", () => {
    expect(checkLimit(atBound, { concurrency: 1 }).taskType).toBe(atBound);
    expect(() => checkLimit(over, { concurrency: 1 })).toThrow(
      refused("ERR_INVALID_TYPE_LIMIT", /task_type: must be at most 200 characters/),
    );
    expect(parseLimitFlag(`${atBound}=concurrency:1`).taskType).toBe(atBound);
    expect(() => parseLimitFlag(`${over}=concurrency:1`)).toThrow(
      refused("ERR_INVALID_TYPE_LIMIT", /must be at most 200 characters/),
    );
  });

  it("a schedule's task", () => {
    const schedule = (task_type: string) => ({ schedule_id: "s", every_ms: 60_000, task: { task_type } });
    expect(checkSchedule(schedule(atBound)).task.task_type).toBe(atBound);
    expect(() => checkSchedule(schedule(over))).toThrow(
      refused("ERR_INVALID_SCHEDULE", /task_type.*must be at most 200 characters/),
    );
  });

  it("POST /tasks, the A2A gateway and the wire", () => {
    expect(newTask.safeParse({ task_type: atBound }).success).toBe(true);
    expect(newTask.safeParse({ task_type: over }).success).toBe(false);
    const wire = (task_type: string) =>
      wireTask.safeParse({
        task_id: "t",
        task_type,
        payload: {},
        status: "pending",
        result: null,
        error: null,
        attempts: 0,
        assigned_to: null,
        created_at: "2026-01-01T00:00:00Z",
        started_at: null,
        completed_at: null,
      }).success;
    expect(wire(atBound)).toBe(true);
    expect(wire(over)).toBe(false);
    const a2a = (task_type: string) =>
      readTaskInput({
        messageId: "m",
        role: 1,
        parts: [{ content: { $case: "data", value: { task_type, payload: {} } } }],
      } as never).ok;
    expect(a2a(atBound)).toBe(true);
    expect(a2a(over)).toBe(false);
  });
});
