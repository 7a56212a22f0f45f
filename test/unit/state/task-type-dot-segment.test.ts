import { describe, expect, it } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { checkLimit, parseLimitFlag } from "../../../src/agents/limits/limit-spec.js";
import { checkSchedule } from "../../../src/agents/schedules/schedule-spec.js";
import { SpawnList } from "../../../src/agents/workflow/spawn-list.js";
import { taskTypeOption, UsageError } from "../../../src/cli/options.js";
import { Task } from "../../../src/index.js";
import { readTaskInput } from "../../../src/server/a2a-gateway/task-input.js";
import { newTask } from "../../../src/server/http-schemas.js";

/**
 * A task type "." or ".." is a dot segment, which every URL parser removes from a path: a limit
 * on it could never be set, read or removed (`PUT /limits/..` is `PUT /`), as a task with such an
 * id could never be looked up. Every entry that takes a type refuses it, naming task_type, as
 * task ids are refused; "" was refused already (blank), and is here so all three stay refused.
 * A dot inside a type ("a.b", "...") is fine: only a whole segment of dots is dropped.
 */

const DOTS = ["", ".", ".."];
const WHY = /task_type.*must (not be "\." or "\.\."|not be blank|be a non-empty string)/s;
const refused = (code: string) => expect.objectContaining({ code, message: expect.stringMatching(WHY) });

describe('a task type "", "." or ".."', () => {
  it.each(DOTS)("%j is refused by every entry, naming task_type", (type) => {
    // The library: submitTask / submitTasks (a dict or a Task) and a spawned task.
    expect(() => toDict({ task_id: "t1", task_type: type })).toThrow(refused("ERR_INVALID_TASK"));
    expect(() => toDict(new Task({ taskId: "t1", taskType: type }))).toThrow(refused("ERR_INVALID_TASK"));
    expect(() => new SpawnList("p").add([{ task_type: type }])).toThrow(refused("ERR_INVALID_TASK"));
    // POST /tasks (its 422 words the first issue as "<path>: <message>").
    const rest = newTask.safeParse({ task_type: type });
    expect(rest.success).toBe(false);
    const issue = rest.error!.issues[0]!;
    expect(`${issue.path.join(".")}: ${issue.message}`).toMatch(WHY);
    // The A2A gateway: the task is refused with the reason.
    const a2a = readTaskInput({
      messageId: "m",
      role: 1,
      parts: [{ content: { $case: "data", value: { task_type: type, payload: {} } } }],
    } as never);
    expect(a2a).toMatchObject({ ok: false, reason: expect.stringMatching(WHY) });
    // A schedule's task and a limit (PUT /limits/:task_type, --limit).
    const schedule = { schedule_id: "s", every_ms: 60_000, task: { task_type: type } };
    expect(() => checkSchedule(schedule)).toThrow(refused("ERR_INVALID_SCHEDULE"));
    expect(() => checkLimit(type, { concurrency: 1 })).toThrow(refused("ERR_INVALID_TYPE_LIMIT"));
    expect(() => parseLimitFlag(`${type}=concurrency:1`)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_TYPE_LIMIT" }),
    );
    // The CLI: --type, --a2a-text-type (a usage error, exit 2, before anything is sent or started).
    for (const flag of ["type", "a2a-text-type"]) {
      let err: unknown;
      try {
        taskTypeOption({ [flag]: type }, flag);
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UsageError);
      expect(err).toMatchObject({
        code: "ERR_INVALID_TASK",
        message: expect.stringMatching(new RegExp(`^--${flag} .*: a task type must`, "s")),
      });
    }
  });

  it("a dot inside a type, or more than two, is still a type", () => {
    for (const type of ["a.b", "...", ".echo", "echo.", ". ."]) {
      expect(toDict({ task_id: "t1", task_type: type }).task_type).toBe(type);
      expect(newTask.safeParse({ task_type: type }).success).toBe(true);
      expect(taskTypeOption({ type }, "type")).toBe(type);
      expect(checkLimit(type, { concurrency: 1 }).taskType).toBe(type);
    }
  });
});
