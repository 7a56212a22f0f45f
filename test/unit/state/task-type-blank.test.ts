import { describe, expect, it } from "vitest";
import { parseLimitFlag } from "../../../src/agents/limits/limit-spec.js";
import { expectRefusedByEveryEntry, expectTakenAsAType } from "../../helpers/task-type-entries.js";

/**
 * A task type that is blank (empty, or only white space: " ", a tab, a no-break or ideographic
 * space) or holds a control character is no type a handler can have: every entry that takes a
 * type refuses it naming task_type (the library, POST /tasks, A2A, a schedule, a limit, a spawned
 * task, the CLI's --type and --a2a-text-type), where " " was recorded and failed on a worker
 * later ("unknown task type"). A space inside a type is fine.
 */

const BLANK = [" ", "   ", "\t", "\u00a0", "\u3000", "\u2028", "\n \r"];
const CONTROL = ["echo\u0000", "a\u0007b", "echo\u009f"];
const WHY = /task_type.*must not (be blank \(empty or only white space\)|contain control characters)/s;

describe("a blank task type, or one with a control character", () => {
  it.each([...BLANK, ...CONTROL])("%j is refused by every entry, naming task_type", (type) => {
    expectRefusedByEveryEntry(type, WHY, "a task type must not");
  });

  it("--limit with a blank type is refused too", () => {
    expect(() => parseLimitFlag(" =concurrency:1")).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_TYPE_LIMIT", message: expect.stringMatching(/blank/) }),
    );
  });

  it("a type with spaces inside, or around a name, is still a type", () => {
    for (const type of ["my type", "echo é", " echo"]) expectTakenAsAType(type);
  });
});
