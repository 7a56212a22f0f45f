import { describe, expect, it } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { SpawnList } from "../../../src/agents/workflow/spawn-list.js";
import { Task } from "../../../src/index.js";
import { taskId as httpTaskId } from "../../../src/server/http-schemas.js";

/**
 * A task id is one rule at every entry that makes a task: POST /tasks refused an id with white
 * space or a control character (" ", "x\u0001": no URL names such a task plainly, and it forges
 * log lines), while submitTask and a spawned task (ctx.spawn, a workflow's children) recorded it.
 * Each refuses it now, as POST /tasks does, naming task_id (ERR_INVALID_TASK, as REST's 422).
 */

const SPACE_OR_CONTROL = [
  " ",
  "   ",
  "a b",
  "tab\there",
  "line\nbreak",
  "x\u0001",
  "nul\u0000",
  "\u0085",
  "nbsp\u00a0",
  "ideo\u3000",
  "ls\u2028",
  "bom\ufeff",
];
const TAKEN = ["t1", "a/b", ".hidden", "...", "a.b@c", "ünï", "emoji😀", "i".repeat(200)];
const WHY = /task_id .* must not contain whitespace or control characters/s;
const refused = expect.objectContaining({ code: "ERR_INVALID_TASK", message: expect.stringMatching(WHY) });

describe("a task id with white space or a control character", () => {
  it.each(SPACE_OR_CONTROL)(
    "%j is refused by POST /tasks, submitTask and a spawned task, naming task_id",
    (id) => {
      expect(httpTaskId.safeParse(id).success).toBe(false);
      expect(() => toDict({ task_id: id, task_type: "echo" })).toThrow(refused);
      expect(() => toDict(new Task({ taskId: id, taskType: "echo" }))).toThrow(refused);
      const list = new SpawnList("p");
      expect(() => list.add([{ task_id: id, task_type: "echo" }])).toThrow(refused);
      // A spawn the handler got wrong is the same on every try: not retried.
      expect(() => list.add([{ task_id: id, task_type: "echo" }])).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ retryable: false }) }),
      );
      expect(list.size).toBe(0);
    },
  );

  it.each(TAKEN)("%j is taken by every entry alike", (id) => {
    expect(httpTaskId.safeParse(id).success).toBe(true);
    expect(toDict({ task_id: id, task_type: "echo" }).task_id).toBe(id);
    expect(new SpawnList("p").add([{ task_id: id, task_type: "echo" }])).toEqual([id]);
  });

  it("every other id POST /tasks refuses, submitTask and a spawned task refuse too", () => {
    for (const id of ["", ".", "..", "i".repeat(201), "a\uD800"]) {
      expect(httpTaskId.safeParse(id).success, JSON.stringify(id)).toBe(false);
      expect(() => toDict({ task_id: id, task_type: "echo" }), JSON.stringify(id)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_TASK" }),
      );
      expect(() => new SpawnList("p").add([{ task_id: id, task_type: "echo" }]), JSON.stringify(id)).toThrow(
        expect.objectContaining({ code: "ERR_INVALID_TASK" }),
      );
    }
  });

  it("an id too long to be a task's is named by its length, not repeated", () => {
    const id = "L".repeat(100_000);
    for (const refuse of [
      () => toDict({ task_id: id, task_type: "echo" }),
      () => new SpawnList("p").add([{ task_id: id, task_type: "echo" }]),
    ]) {
      expect(refuse).toThrow(
        expect.objectContaining({
          code: "ERR_INVALID_TASK",
          message: expect.stringMatching(/task_id is 100000 characters; at most 200 are taken/),
        }),
      );
      expect(refuse).toThrow(
        expect.objectContaining({ message: expect.not.stringContaining("L".repeat(300)) }),
      );
    }
  });
});
