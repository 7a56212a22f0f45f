import { describe, expect, it } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { checkLimit, parseLimitFlag } from "../../../src/agents/limits/limit-spec.js";
import { parseAgentPayload } from "../../../src/agents/parse-payload.js";
import { checkSchedule } from "../../../src/agents/schedules/schedule-spec.js";
import { SpawnList } from "../../../src/agents/workflow/spawn-list.js";
import { Task } from "../../../src/core/state/task.js";
import { readTaskInput } from "../../../src/server/a2a-gateway/task-input.js";
import { newTask } from "../../../src/server/http-schemas.js";

/**
 * A lone UTF-16 surrogate has no UTF-8 encoding: Redis receives it as U+FFFD, so the id stored
 * is not the id submitted, and the shard computed here (over UTF-16 units) is not the one the
 * Lua scripts compute. Task ids, task types, schedule ids and limited types holding one are
 * refused at every entry, naming where the surrogate is.
 */

const lone = "a\uD800b";
const loneLow = "ab\uDC00";
// A pair is one well-formed character: taken as before.
const paired = "a\uD83D\uDE00b";
const refused = (code: string, message: RegExp) =>
  expect.objectContaining({ code, message: expect.stringMatching(message) });
const AT_1 = /must be well-formed Unicode \(lone surrogate at index 1\)/;
const AT_2 = /must be well-formed Unicode \(lone surrogate at index 2\)/;

describe("ids and types with a lone surrogate", () => {
  it("would reach the store as another string (what the refusal prevents)", () => {
    expect(Buffer.from(lone, "utf8").toString("utf8")).not.toBe(lone);
    expect(Buffer.from(paired, "utf8").toString("utf8")).toBe(paired);
  });

  it("a submitted task: its id, type or a dependency is refused with ERR_INVALID_TASK", () => {
    expect(() => toDict({ task_id: lone, task_type: "echo" })).toThrow(refused("ERR_INVALID_TASK", AT_1));
    expect(() => toDict({ task_id: loneLow, task_type: "echo" })).toThrow(
      refused("ERR_INVALID_TASK", /task_id .* must be well-formed Unicode \(lone surrogate at index 2\)/),
    );
    expect(() => toDict({ task_id: "t", task_type: lone })).toThrow(
      refused("ERR_INVALID_TASK", /task_type .*lone surrogate at index 1/),
    );
    expect(() => toDict({ task_id: "t", task_type: "echo", depends_on: ["ok", lone] })).toThrow(
      refused("ERR_INVALID_TASK", /depends_on .*lone surrogate at index 1/),
    );
    // The general path (a key beyond the fresh ones) refuses as well.
    expect(() => toDict({ task_id: lone, task_type: "echo", priority: 1 })).toThrow(
      refused("ERR_INVALID_TASK", AT_1),
    );
    expect(toDict({ task_id: paired, task_type: paired, depends_on: [paired] })).toMatchObject({
      task_id: paired,
      task_type: paired,
      depends_on: [paired],
    });
  });

  it("Task.fromDict: its id, type, parent and dependencies are refused with ERR_INVALID_TASK", () => {
    const dict = { task_id: "t", task_type: "echo" };
    expect(() => Task.fromDict({ ...dict, task_id: lone })).toThrow(refused("ERR_INVALID_TASK", AT_1));
    expect(() => Task.fromDict({ ...dict, task_type: loneLow })).toThrow(refused("ERR_INVALID_TASK", AT_2));
    expect(() => Task.fromDict({ ...dict, parent_id: lone })).toThrow(refused("ERR_INVALID_TASK", AT_1));
    expect(() => Task.fromDict({ ...dict, depends_on: ["ok", lone] })).toThrow(
      refused("ERR_INVALID_TASK", AT_1),
    );
    expect(() => Task.fromDict({ ...dict, waiting_on: [loneLow] })).toThrow(
      refused("ERR_INVALID_TASK", AT_2),
    );
    const task = Task.fromDict({
      task_id: paired,
      task_type: paired,
      depends_on: [paired],
      parent_id: paired,
    });
    expect(task.toDict()).toMatchObject({ task_id: paired, task_type: paired, depends_on: [paired] });
  });

  it("a spawned task", () => {
    expect(() => new SpawnList("p").add([{ task_id: lone, task_type: "echo" }])).toThrow(
      refused("ERR_INVALID_TASK", AT_1),
    );
    expect(() => new SpawnList("p").add([{ task_type: loneLow }])).toThrow(
      refused("ERR_INVALID_TASK", /task_type must be well-formed Unicode \(lone surrogate at index 2\)/),
    );
    expect(() => new SpawnList("p").add([{ task_type: "echo", depends_on: [lone] }])).toThrow(
      refused("ERR_INVALID_TASK", /depends_on .*lone surrogate at index 1/),
    );
    expect(new SpawnList("p").add([{ task_id: paired, task_type: paired }])).toEqual([paired]);
  });

  it("a limit's task type and a schedule's id and task type", () => {
    expect(() => checkLimit(lone, { concurrency: 1 })).toThrow(refused("ERR_INVALID_TYPE_LIMIT", AT_1));
    expect(() => parseLimitFlag(`${loneLow}=concurrency:1`)).toThrow(refused("ERR_INVALID_TYPE_LIMIT", AT_2));
    expect(checkLimit(paired, { concurrency: 1 }).taskType).toBe(paired);
    const schedule = (schedule_id: string, task_type: string) => ({
      schedule_id,
      every_ms: 60_000,
      task: { task_type },
    });
    expect(() => checkSchedule(schedule(lone, "echo"))).toThrow(
      refused("ERR_INVALID_SCHEDULE", /schedule_id: .*lone surrogate at index 1/),
    );
    expect(() => checkSchedule(schedule("s", loneLow))).toThrow(
      refused("ERR_INVALID_SCHEDULE", /task\.task_type: .*lone surrogate at index 2/),
    );
    expect(checkSchedule(schedule(paired, paired)).schedule_id).toBe(paired);
  });

  it("POST /tasks and the A2A gateway", () => {
    const issue = (body: unknown) => {
      const parsed = newTask.safeParse(body);
      return parsed.success ? null : parsed.error.issues[0]?.message;
    };
    expect(issue({ task_id: lone, task_type: "echo" })).toMatch(AT_1);
    expect(issue({ task_type: loneLow })).toMatch(AT_2);
    expect(issue({ task_type: "echo", depends_on: [lone] })).toMatch(AT_1);
    expect(issue({ task_id: paired, task_type: paired })).toBeNull();
    const a2a = (value: unknown) =>
      readTaskInput({
        messageId: "m",
        role: 1,
        parts: [{ content: { $case: "data", value } }],
      } as never);
    expect(a2a({ task_type: lone, payload: {} })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(AT_1),
    });
    expect(a2a({ task_type: "echo", depends_on: [loneLow] })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(AT_2),
    });
    expect(a2a({ task_type: paired, payload: {} }).ok).toBe(true);
  });

  it("the messages between agents", () => {
    const task = (task_id: string, task_type: string) => ({
      task_id,
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
    });
    const assign = (task_id: string, task_type: string) =>
      parseAgentPayload({ kind: "assign_tasks", tasks: [task(task_id, task_type)] });
    expect(assign(lone, "echo")).toMatchObject({ ok: false, error: expect.stringMatching(AT_1) });
    expect(assign("t", loneLow)).toMatchObject({ ok: false, error: expect.stringMatching(AT_2) });
    expect(assign(paired, paired).ok).toBe(true);
  });
});
