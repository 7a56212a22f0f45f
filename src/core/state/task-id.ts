import { TriadError } from "../errors.js";
import { notWellFormed } from "./well-formed.js";

/**
 * The longest task id, in characters, wherever one is given or carried: a submitted or spawned
 * task, POST /tasks, the A2A gateway, the messages between agents. One bound, as for task types
 * (MAX_TASK_TYPE_LENGTH), so that an id one surface takes is never refused by another.
 */
export const MAX_TASK_ID_LENGTH = 200;

/**
 * Ids no URL can name: `.` and `..` are dot segments, which every URL parser (so every client)
 * removes from `/tasks/<id>`, so such a task could be submitted but never read or canceled.
 */
const DOT_SEGMENTS = new Set([".", ".."]);

export const DOT_SEGMENT_ID = 'must not be "." or ".." (no URL can name such a task)';

/**
 * Why `length` characters is too long for an id bounded as a task id is, or null. An id over
 * the bound is never repeated in the message (it may be 100,000 characters): its length is.
 */
export function idLengthProblem(length: number): string | null {
  return length <= MAX_TASK_ID_LENGTH
    ? null
    : `is ${length} characters; at most ${MAX_TASK_ID_LENGTH} are taken (as for a task id)`;
}

export function isDotSegmentId(taskId: string): boolean {
  return DOT_SEGMENTS.has(taskId);
}

/**
 * Refuses, at submission, a task id that could never be looked up by URL, or that the store
 * would keep as another string (a lone surrogate: see well-formed.ts) (ERR_INVALID_TASK).
 */
export function assertSubmittableTaskId(taskId: string): void {
  if (isDotSegmentId(taskId)) {
    throw new TriadError("ERR_INVALID_TASK", `task_id ${JSON.stringify(taskId)} ${DOT_SEGMENT_ID}`);
  }
  const why = notWellFormed(taskId);
  if (why !== null) throw new TriadError("ERR_INVALID_TASK", `task_id ${JSON.stringify(taskId)} ${why}`);
}
