import { TriadError } from "../errors.js";
import { notWellFormed } from "./well-formed.js";

/**
 * The longest task type, in characters, wherever one is given: a submitted or spawned task, a
 * limit (PUT /limits/:task_type, --limit), a schedule's task, POST /tasks and the A2A gateway.
 * One bound, so that a type one surface takes is never refused by another (as task ids: MAX_TASK_ID_LENGTH).
 */
export const MAX_TASK_TYPE_LENGTH = 200;

export const TASK_TYPE_TOO_LONG = `must be at most ${MAX_TASK_TYPE_LENGTH} characters`;

/**
 * Refuses, at submission, a task type longer than MAX_TASK_TYPE_LENGTH, or that the store would
 * keep as another string (a lone surrogate: see well-formed.ts) (ERR_INVALID_TASK).
 */
export function assertSubmittableTaskType(taskType: string): void {
  if (taskType.length > MAX_TASK_TYPE_LENGTH) {
    throw new TriadError("ERR_INVALID_TASK", `task_type ${TASK_TYPE_TOO_LONG} (got ${taskType.length})`);
  }
  const why = notWellFormed(taskType);
  if (why !== null) throw new TriadError("ERR_INVALID_TASK", `task_type ${JSON.stringify(taskType)} ${why}`);
}
