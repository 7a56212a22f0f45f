import { describe, expect, it } from "vitest";
import { PACKED_TASKS } from "../../../src/agents/packed-tasks.js";
import { parseAgentPayload } from "../../../src/agents/parse-payload.js";
import type { JsonObject, JsonValue } from "../../../src/core/json.js";

/**
 * The task lists of assign_tasks, execute_tasks and task_terminal travel between processes as
 * columns (src/agents/packed-tasks.ts). What matters: decoding gives back exactly the list that
 * was encoded (the receiving agent then checks it as any other), a list with anything a column
 * cannot carry goes as it is, and a malformed packed list is refused with a reason.
 */

const task = (i: number, extra: JsonObject = {}): JsonObject => ({
  assigned_to: i % 2 === 0 ? "worker-a" : "worker-b",
  attempts: 1,
  completed_at: "2026-12-05T12:00:01.000Z",
  created_at: "2026-12-05T12:00:00.000Z",
  error: null,
  payload: { i, nested: { list: [i, "x"] } },
  result: { ok: i },
  started_at: null,
  status: "completed",
  task_id: `t-${i}`,
  task_type: "echo",
  ...extra,
});

const event = (event_type: string, event_data: JsonObject): JsonObject => ({ event_type, event_data });
/** What crosses the wire: the encoded payload as text, parsed again. */
const overTheWire = (payload: JsonObject) =>
  JSON.parse(JSON.stringify(PACKED_TASKS.encode(payload))) as JsonObject;
const packedOf = (payload: JsonObject) => (payload.event_data as JsonObject).packed as JsonObject;

describe("packed task lists (tasks-packed-1)", () => {
  it("gives back a task_terminal's list as it was, with the members beside it", () => {
    const payload = event("task_terminal", {
      tasks: [task(0), task(1), task(2)],
      traces: { "t-1": { traceparent: "00-abc-def-01" } },
      via_groups: [{ via: ["r1", "r2"], tasks: ["t-0", "t-1", "t-2"] }],
    });
    const wire = overTheWire(payload);
    expect((wire.event_data as JsonObject).tasks).toBeUndefined();
    expect(PACKED_TASKS.decode(wire)).toEqual(payload);
    // Decoded as senders write it: members in sorted order, one shape for every task.
    const decoded = (PACKED_TASKS.decode(wire).event_data as JsonObject).tasks as JsonObject[];
    expect(Object.keys(decoded[0]!)).toEqual(Object.keys(task(0)).sort());
  });

  it("writes a value every task shares once, and a column of values otherwise", () => {
    const packed = packedOf(overTheWire(event("assign_tasks", { tasks: [task(0), task(1)], traces: {} })));
    const columns = packed.tasks as JsonObject;
    expect(packed.n).toBe(2);
    expect(columns.task_type).toEqual({ s: "echo" });
    expect(columns.error).toEqual({ s: null });
    expect(columns.assigned_to).toEqual({ v: ["worker-a", "worker-b"] });
    expect(columns.task_id).toEqual({ v: ["t-0", "t-1"] });
    // Objects are never taken as shared, even when equal.
    expect(columns.result).toEqual({ v: [{ ok: 0 }, { ok: 1 }] });
  });

  it("gives back an execute_tasks' items, fences and timeouts, with the acks beside them", () => {
    const payload = event("execute_tasks", {
      acks: [{ fence: 3, task_id: "old" }],
      tasks: [0, 1, 2].map((i) => ({
        fence: i + 1,
        task: task(i, { status: "in_progress" }),
        timeout_ms: 30_000,
      })),
    });
    const wire = overTheWire(payload);
    expect(packedOf(wire).fence).toEqual({ v: [1, 2, 3] });
    expect(packedOf(wire).timeout_ms).toEqual({ s: 30_000 });
    expect(PACKED_TASKS.decode(wire)).toEqual(payload);
    // The decoded payload passes the receiving agent's own check.
    const decoded = PACKED_TASKS.decode(wire);
    const check = parseAgentPayload({ kind: decoded.event_type, ...(decoded.event_data as JsonObject) });
    expect(check.ok).toBe(true);
  });

  it("is much shorter than the list of dicts for a batch of plain tasks", () => {
    const items = Array.from({ length: 200 }, (_, i) => ({
      fence: 1,
      task: task(i, { result: null, completed_at: null, status: "in_progress", assigned_to: "worker-a" }),
      timeout_ms: 30_000,
    }));
    const payload = event("execute_tasks", { tasks: items });
    const plain = JSON.stringify(payload).length;
    const packed = JSON.stringify(PACKED_TASKS.encode(payload)).length;
    expect(packed).toBeLessThan(plain / 3);
  });

  it("leaves as it is a list with a task that has more than the eleven members, or an item with more", () => {
    const withDeps = event("assign_tasks", {
      tasks: [task(0), task(1, { depends_on: ["t-0"] })],
      traces: {},
    });
    expect(PACKED_TASKS.encode(withDeps)).toBe(withDeps);
    const withCheckpoint = event("execute_tasks", {
      tasks: [{ checkpoint: { step: 2 }, fence: 1, task: task(0), timeout_ms: 1000 }],
    });
    expect(PACKED_TASKS.encode(withCheckpoint)).toBe(withCheckpoint);
    const missing = task(0);
    delete missing.started_at;
    const short = event("task_terminal", { tasks: [missing] });
    expect(PACKED_TASKS.encode(short)).toBe(short);
  });

  it("leaves every other payload alone, and does not change what it encodes", () => {
    for (const payload of [
      event("task_results", { results: [{ fence: 1, status: "completed", task_id: "x" }] }),
      event("assign_tasks", { tasks: [], traces: {} }),
      { status: { kind: "worker_status" } },
    ] as JsonObject[]) {
      expect(PACKED_TASKS.encode(payload)).toBe(payload);
      expect(PACKED_TASKS.decode(payload)).toBe(payload);
    }
    const payload = event("task_terminal", { tasks: [task(0), task(1)] });
    const before = JSON.stringify(payload);
    PACKED_TASKS.encode(payload);
    expect(JSON.stringify(payload)).toBe(before);
  });

  it("refuses a packed list that is malformed, saying what is wrong", () => {
    const good = overTheWire(event("task_terminal", { tasks: [task(0), task(1)] }));
    const spoil = (change: (packed: JsonObject) => void, kind = "task_terminal") => {
      const copy = JSON.parse(JSON.stringify(good)) as JsonObject;
      copy.event_type = kind;
      change(packedOf(copy));
      return () => PACKED_TASKS.decode(copy);
    };
    const columns = (p: JsonObject) => p.tasks as JsonObject;
    expect(spoil((p) => (columns(p).task_id = { v: ["only-one"] }))).toThrow(/tasks\.task_id must be/);
    expect(spoil((p) => delete columns(p).payload)).toThrow(/exactly the 11 task members/);
    expect(spoil((p) => (columns(p).payload = { s: 1, v: [1, 2] }))).toThrow(/tasks\.payload must be/);
    expect(spoil((p) => (p.n = 0))).toThrow(/packed\.n must be an integer/);
    expect(spoil((p) => (p.n = 1e9))).toThrow(/packed\.n must be an integer/);
    expect(spoil((p) => (p.fence = { s: 1 }))).toThrow(/packed\.fence is not a member/);
    expect(spoil(() => {}, "task_results")).toThrow(/task_results has no packed form/);
    expect(spoil(() => {}, "execute_tasks")).toThrow(/packed\.fence must be/);
    const both = JSON.parse(JSON.stringify(good)) as JsonObject;
    (both.event_data as JsonObject).tasks = [] as JsonValue[];
    expect(() => PACKED_TASKS.decode(both)).toThrow(/packed and tasks both given/);
  });
});
