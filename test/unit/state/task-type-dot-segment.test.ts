import { describe, expect, it } from "vitest";
import { checkLimit, parseLimitFlag } from "../../../src/agents/limits/limit-spec.js";
import { expectRefusedByEveryEntry, expectTakenAsAType } from "../../helpers/task-type-entries.js";

/**
 * A task type "." or ".." is a dot segment, which every URL parser removes from a path: a limit
 * on it could never be set, read or removed (`PUT /limits/..` is `PUT /`), as a task with such an
 * id could never be looked up. Every entry that takes a type refuses it, naming task_type, as
 * task ids are refused; "" was refused already (blank), and is here so all three stay refused.
 * A dot inside a type ("a.b", "...") is fine: only a whole segment of dots is dropped.
 */

const DOTS = ["", ".", ".."];
const WHY = /task_type.*must (not be "\." or "\.\."|not be blank|be a non-empty string)/s;

describe('a task type "", "." or ".."', () => {
  it.each(DOTS)("%j is refused by every entry, naming task_type", (type) => {
    expectRefusedByEveryEntry(type, WHY, "a task type must");
    // --limit too (PUT /limits/:task_type is checkLimit's, above).
    expect(() => parseLimitFlag(`${type}=concurrency:1`)).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_TYPE_LIMIT" }),
    );
  });

  it("a dot inside a type, or more than two, is still a type", () => {
    for (const type of ["a.b", "...", ".echo", "echo.", ". ."]) {
      expectTakenAsAType(type);
      expect(checkLimit(type, { concurrency: 1 }).taskType).toBe(type);
    }
  });
});
