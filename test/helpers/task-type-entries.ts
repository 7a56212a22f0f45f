import { expect } from "vitest";
import { toDict } from "../../src/agents/coordinator/coordinator-agent.js";
import { checkLimit } from "../../src/agents/limits/limit-spec.js";
import { checkSchedule } from "../../src/agents/schedules/schedule-spec.js";
import { SpawnList } from "../../src/agents/workflow/spawn-list.js";
import { taskTypeOption, UsageError } from "../../src/cli/options.js";
import { Task } from "../../src/index.js";
import { readTaskInput } from "../../src/server/a2a-gateway/task-input.js";
import { newTask } from "../../src/server/http-schemas.js";

/**
 * The entries that take a task type, for the tests of which types they refuse (task-type-*.test.ts
 * in test/unit/state): each check runs one type through all of them.
 */

/**
 * Expects `type` refused by every entry, each naming task_type with a message matching `why`:
 * the library (a dict or a Task, a spawned task), POST /tasks, the A2A gateway, a schedule's task,
 * a limit, and the CLI's --type and --a2a-text-type, whose usage error says `--<flag> ...: ` and
 * then matches `cliWhy`.
 */
export function expectRefusedByEveryEntry(type: string, why: RegExp, cliWhy: string): void {
  const refused = (code: string) => expect.objectContaining({ code, message: expect.stringMatching(why) });
  // The library: submitTask / submitTasks (a dict or a Task) and a spawned task.
  expect(() => toDict({ task_id: "t1", task_type: type })).toThrow(refused("ERR_INVALID_TASK"));
  expect(() => toDict(new Task({ taskId: "t1", taskType: type }))).toThrow(refused("ERR_INVALID_TASK"));
  expect(() => new SpawnList("p").add([{ task_type: type }])).toThrow(refused("ERR_INVALID_TASK"));
  // POST /tasks (its 422 words the first issue as "<path>: <message>").
  const rest = newTask.safeParse({ task_type: type });
  expect(rest.success).toBe(false);
  const issue = rest.error!.issues[0]!;
  expect(`${issue.path.join(".")}: ${issue.message}`).toMatch(why);
  // The A2A gateway: the task is refused with the reason.
  const a2a = readTaskInput({
    messageId: "m",
    role: 1,
    parts: [{ content: { $case: "data", value: { task_type: type, payload: {} } } }],
  } as never);
  expect(a2a).toMatchObject({ ok: false, reason: expect.stringMatching(why) });
  // A schedule's task and a limit.
  const schedule = { schedule_id: "s", every_ms: 60_000, task: { task_type: type } };
  expect(() => checkSchedule(schedule)).toThrow(refused("ERR_INVALID_SCHEDULE"));
  expect(() => checkLimit(type, { concurrency: 1 })).toThrow(refused("ERR_INVALID_TYPE_LIMIT"));
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
      message: expect.stringMatching(new RegExp(`^--${flag} .*: ${cliWhy}`, "s")),
    });
  }
}

/** Expects `type` taken as it is by the library, POST /tasks and the CLI's --type. */
export function expectTakenAsAType(type: string): void {
  expect(toDict({ task_id: "t1", task_type: type }).task_type).toBe(type);
  expect(newTask.safeParse({ task_type: type }).success).toBe(true);
  expect(taskTypeOption({ type }, "type")).toBe(type);
}
