import { describe, expect, it } from "vitest";
import { parseAgentPayload } from "../../../src/agents/parse-payload.js";
import { agentPayload, refusalsOf } from "../../../src/agents/protocol.js";

// parseAgentPayload checks the kinds that carry tasks by hand before it asks the schema. These
// tests hold it to the schema: the same verdict for every payload, and the same value when valid.

const task = (id: string, extra: Record<string, unknown> = {}) => ({
  task_id: id,
  task_type: "echo",
  payload: { i: 1, nested: { list: [1, "a", null, true] } },
  status: "in_progress",
  result: null,
  error: null,
  attempts: 1,
  assigned_to: "worker-1",
  created_at: "2026-11-25T21:00:00.000Z",
  started_at: null,
  completed_at: null,
  ...extra,
});

const valid: Record<string, unknown>[] = [
  { kind: "assign_tasks", tasks: [task("a"), task("b")] },
  { kind: "assign_tasks", tasks: [], traces: { a: { traceparent: "00-abc-def-01", via: ["x", "y"] } } },
  // From a coordinator in another process: where it listens.
  { kind: "assign_tasks", tasks: [task("a")], url: "http://127.0.0.1:4100" },
  { kind: "task_terminal", tasks: [task("a", { status: "completed", result: { ok: [1, 2] } })] },
  // Tasks whose last attempt travelled in the same two messages, named once.
  {
    kind: "task_terminal",
    tasks: [task("a"), task("b"), task("c")],
    traces: { c: { traceparent: "00-abc-def-01", via: ["e2", "r2"] } },
    via_groups: [
      { via: ["e1", "r1"], tasks: ["a"] },
      { via: ["e1", ""], tasks: ["b"] },
    ],
  },
  {
    kind: "execute_tasks",
    tasks: [{ task: task("a"), fence: 3, timeout_ms: 1000, checkpoint: { step: 2 }, trace: { via: [] } }],
    acks: [{ task_id: "z", fence: 1 }],
  },
  {
    kind: "task_results",
    results: [
      { task_id: "a", fence: 3, status: "completed", result: { i: 1 }, started_at: "x", duration_ms: 0.5 },
      { task_id: "b", fence: 4, status: "failed", error: "boom" },
      { task_id: "c", fence: 5, status: "failed", error: "bad input", retryable: false },
    ],
  },
  { kind: "results_ack", acks: [{ task_id: "a", fence: 3 }] },
  // A dependent's attempt carries how each of its dependencies ended (ctx.dependencies).
  {
    kind: "execute_tasks",
    tasks: [
      {
        task: task("j", { depends_on: ["a", "b"] }),
        fence: 1,
        timeout_ms: 1000,
        dependencies: {
          a: { status: "completed", result: { n: [1, 2] }, error: null },
          b: { status: "failed", result: null, error: "boom" },
        },
      },
    ],
  },
  // Tasks whose committed attempt spawned tasks, named (the coordinator records those first).
  {
    kind: "task_terminal",
    spawns: ["a"],
    tasks: [task("a", { status: "completed", result: ["a.1"] }), task("b")],
  },
  // A trace with retries is left to the schema; still valid.
  {
    kind: "task_terminal",
    tasks: [task("a")],
    traces: { a: { retries: [{ attempt: 1, worker: "w", error: "lost" }] } },
  },
];

const invalid: Record<string, unknown>[] = [
  { kind: "assign_tasks", tasks: [task("a", { task_id: "" })] },
  { kind: "assign_tasks", tasks: [task("a", { attempts: -1 })] },
  { kind: "assign_tasks", tasks: [task("a", { status: "weird" })] },
  { kind: "assign_tasks", tasks: [task("a", { payload: [1] })] },
  { kind: "assign_tasks", tasks: [{ ...task("a"), created_at: undefined }] },
  { kind: "assign_tasks", tasks: "a" },
  { kind: "assign_tasks", tasks: [task("a")], url: 5 },
  { kind: "assign_tasks", tasks: [task("a")], url: "x".repeat(2001) },
  { kind: "execute_tasks", tasks: [{ task: task("a"), fence: 0, timeout_ms: 1000 }] },
  { kind: "execute_tasks", tasks: [{ task: task("a"), fence: 1, timeout_ms: 1.5 }] },
  ...[
    { a: { status: "weird", result: null, error: null } },
    { a: { status: "completed", result: null, error: 5 } },
    { a: { status: "completed", error: null } },
    { "": { status: "completed", result: null, error: null } },
    { a: "completed" },
    [],
  ].map((dependencies) => ({
    kind: "execute_tasks",
    tasks: [{ task: task("j"), fence: 1, timeout_ms: 1000, dependencies }],
  })),
  { kind: "task_results", results: [{ task_id: "a", fence: 1, status: "pending" }] },
  { kind: "task_results", results: [{ task_id: "a", fence: 1.5, status: "completed" }] },
  { kind: "task_results", results: [{ task_id: "a", fence: 1, status: "completed", duration_ms: -1 }] },
  { kind: "task_results", results: [{ task_id: "a", fence: 1, status: "failed", retryable: true }] },
  { kind: "results_ack", acks: [{ task_id: "a" }] },
];

// Valid, but not as given: the schema strips unknown keys or drops a malformed trace.
const rewritten: Record<string, unknown>[] = [
  { kind: "assign_tasks", tasks: [task("a", { extra: 1 })] },
  { kind: "assign_tasks", tasks: [task("a")], traces: { a: { via: "not an array" } } },
  { kind: "task_terminal", tasks: [task("a")], url: "http://127.0.0.1:4100" },
  // A malformed via_groups is dropped, never the tasks.
  { kind: "task_terminal", tasks: [task("a")], via_groups: [{ via: "e1", tasks: ["a"] }] },
  { kind: "task_terminal", tasks: [task("a")], via_groups: [{ via: ["e1"], tasks: [""] }] },
  // A malformed spawns is dropped, never the tasks (their ends are then shown at once, as before it).
  { kind: "task_terminal", spawns: "a", tasks: [task("a")] },
  { kind: "task_terminal", spawns: [""], tasks: [task("a")] },
  { kind: "task_results", results: [{ task_id: "a", fence: 1, status: "completed", trace: 5 }] },
  { kind: "results_ack", acks: [{ task_id: "a", fence: 1, extra: true }], more: 1 },
  {
    kind: "execute_tasks",
    tasks: [
      {
        task: task("j"),
        fence: 1,
        timeout_ms: 1000,
        dependencies: { a: { status: "completed", result: null, error: null, extra: 1 } },
      },
    ],
  },
];

describe("parseAgentPayload", () => {
  it.each(valid.map((p, i) => [i, p.kind, p]))(
    "accepts valid payload %i (%s) as the schema does",
    (_i, _k, p) => {
      const parsed = parseAgentPayload(p);
      expect(parsed).toEqual({ ok: true, value: agentPayload.parse(p) });
    },
  );

  it.each(valid.filter((p) => !JSON.stringify(p).includes("retries")).map((p, i) => [i, p.kind, p]))(
    "takes task-carrying payload %i (%s) as it is, without the schema's copy",
    (_i, _k, p) => {
      const parsed = parseAgentPayload(p);
      expect(parsed.ok && parsed.value).toBe(p);
    },
  );

  it.each(invalid.map((p, i) => [i, p.kind, p]))(
    "refuses invalid payload %i (%s), naming the field",
    (_i, _k, p) => {
      const parsed = parseAgentPayload(p);
      expect(agentPayload.safeParse(p).success).toBe(false);
      expect(parsed.ok).toBe(false);
      if (!parsed.ok) expect(parsed.error).toMatch(/\w+/);
    },
  );

  it.each(rewritten.map((p, i) => [i, p.kind, p]))(
    "gives the schema's rewritten value for payload %i (%s)",
    (_i, _k, p) => {
      const parsed = parseAgentPayload(p);
      const expected = agentPayload.parse(p);
      expect(parsed).toEqual({ ok: true, value: expected });
      expect(JSON.stringify(parsed.ok && parsed.value)).toBe(JSON.stringify(expected));
    },
  );

  it("names the first bad field of a task inside a batch", () => {
    const parsed = parseAgentPayload({
      kind: "assign_tasks",
      tasks: [task("a"), task("b", { attempts: "x" })],
    });
    expect(parsed).toEqual({ ok: false, error: expect.stringContaining("tasks.1.attempts") });
  });
});

describe("refusalsOf", () => {
  it("keeps the reasons that happened, each as a member, even one named __proto__", () => {
    const out = refusalsOf(JSON.parse('{"__proto__": 2, "bad_signature": 0, "stale": 1}'));
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out).sort()).toEqual(["__proto__", "stale"]);
    expect(JSON.stringify(out)).toBe('{"__proto__":2,"stale":1}');
  });
});
