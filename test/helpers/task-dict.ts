import type { TaskDict } from "../../src/agents/protocol.js";

/** A pending task dict as a coordinator sends it (type echo, created 2026-01-01), with `extra` over it. */
export function pendingTask(id: string, extra: Partial<TaskDict> = {}): TaskDict {
  return {
    task_id: id,
    task_type: "echo",
    payload: {},
    status: "pending",
    result: null,
    error: null,
    attempts: 0,
    assigned_to: null,
    created_at: "2026-01-01T00:00:00Z",
    started_at: null,
    completed_at: null,
    ...extra,
  };
}
