import { describe, expect, it, vi } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { parseAgentPayload } from "../../../src/agents/parse-payload.js";
import { MAX_TASK_ID_LENGTH } from "../../../src/core/state/task-id.js";
import { readTaskInput } from "../../../src/server/a2a-gateway/task-input.js";
import { taskId as httpTaskId } from "../../../src/server/http-schemas.js";

/**
 * Every surface bounds a task id by the one shared constant, MAX_TASK_ID_LENGTH: each had its
 * own `200` (the coordinator's submit check, the messages between agents, POST /tasks), so a
 * change to the bound in one place left the others refusing, or carrying, other ids. The
 * constant is set to 20 here, in a process of its own (vitest.config.ts ISOLATED): a surface
 * that still hard-codes its bound takes an id of 21 characters.
 */

vi.mock("../../../src/core/state/task-id.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../../src/core/state/task-id.js")>()),
  MAX_TASK_ID_LENGTH: 20,
}));

const atBound = "i".repeat(20);
const over = "i".repeat(21);

const wireTask = (id: string) => ({
  task_id: id,
  task_type: "echo",
  payload: {},
  status: "pending",
  result: null,
  error: null,
  attempts: 0,
  assigned_to: null,
  created_at: "2026-12-01T00:00:00.000Z",
  started_at: null,
  completed_at: null,
});

describe("the task id bound", () => {
  it("is the shared constant (set to 20 in this file)", () => {
    expect(MAX_TASK_ID_LENGTH).toBe(20);
  });

  it("a submitted task: an id at the bound is taken, one longer refused (ERR_INVALID_TASK)", () => {
    expect(toDict({ task_id: atBound, task_type: "echo" }).task_id).toBe(atBound);
    expect(() => toDict({ task_id: over, task_type: "echo" })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_TASK" }),
    );
  });

  it("the messages between agents: a task, a dependency and an ack of an id longer than the bound are not ours", () => {
    expect(parseAgentPayload({ kind: "assign_tasks", tasks: [wireTask(atBound)] }).ok).toBe(true);
    expect(parseAgentPayload({ kind: "assign_tasks", tasks: [wireTask(over)] }).ok).toBe(false);
    const dependent = { ...wireTask("t"), depends_on: [over] };
    expect(parseAgentPayload({ kind: "assign_tasks", tasks: [dependent] }).ok).toBe(false);
    expect(parseAgentPayload({ kind: "results_ack", acks: [{ task_id: atBound, fence: 1 }] }).ok).toBe(true);
    expect(parseAgentPayload({ kind: "results_ack", acks: [{ task_id: over, fence: 1 }] }).ok).toBe(false);
  });

  it("the A2A gateway: a depends_on id at the bound is taken, one longer refused", () => {
    const a2a = (depends_on: string[]) =>
      readTaskInput({
        messageId: "m",
        role: 1,
        parts: [{ content: { $case: "data", value: { task_type: "echo", depends_on } } }],
      } as never);
    expect(a2a([atBound]).ok).toBe(true);
    expect(a2a([over])).toMatchObject({ ok: false, reason: expect.stringMatching(/depends_on/) });
  });

  it("POST /tasks: an id at the bound is taken, one longer refused", () => {
    expect(httpTaskId.safeParse(atBound).success).toBe(true);
    expect(httpTaskId.safeParse(over).success).toBe(false);
  });
});
