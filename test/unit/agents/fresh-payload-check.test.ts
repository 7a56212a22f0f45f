import { afterEach, beforeEach, describe, expect, it, type MockInstance, vi } from "vitest";
import { toDict } from "../../../src/agents/coordinator/task-input.js";

/**
 * submitTask's fast path (freshTaskDict) checks a plain payload with the allocation-free walk
 * (isPlainJson) alone, and hands anything it does not vouch for to assertJson, as before: what
 * is accepted and what is refused stay the same, only the cost of the common case moves.
 * assertJson's walk is seen by what it calls per object, Object.entries (the other walks of a
 * submit, isPlainJson and jsonCopy, read members with for-in).
 */

let entries: MockInstance<typeof Object.entries>;

beforeEach(() => {
  entries = vi.spyOn(Object, "entries");
});

afterEach(() => {
  entries.mockRestore(); // the worker process is shared with other files
});

describe("a fresh task's payload check", () => {
  it("takes a plain payload without assertJson's walk", () => {
    const dict = toDict({ task_id: "t1", task_type: "echo", payload: { i: 1, a: [null, "x", { b: true }] } });
    expect(dict.payload).toEqual({ i: 1, a: [null, "x", { b: true }] });
    expect(entries).not.toHaveBeenCalled();
  });

  it("checks anything else in full: a Date is taken as its JSON, undefined is refused with a code", () => {
    const at = new Date(Date.UTC(2026, 0, 2));
    const dict = toDict({ task_id: "t2", task_type: "echo", payload: { at } });
    expect(dict.payload).toEqual({ at: "2026-01-02T00:00:00.000Z" });
    expect(entries).toHaveBeenCalled();
    expect(() => toDict({ task_id: "t3", task_type: "echo", payload: { x: undefined } })).toThrow(
      expect.objectContaining({ code: expect.stringMatching(/^ERR_/) }),
    );
  });
});
