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
export const TASK_ID_BLANK_OR_CONTROL = "must not contain whitespace or control characters";

/** Not empty, no white space (JS \s) and no control character anywhere (POST /tasks' schema as well). */
export const NO_SPACE_OR_CONTROL = /^[^\s\p{Cc}]+$/u;

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
 * Why `taskId` cannot be the id of a new task, or null: the one rule of every entry that makes
 * a task (POST /tasks, submitTask, a spawned task; the A2A gateway makes its own UUIDs). Not
 * empty, at most MAX_TASK_ID_LENGTH, no white space or control character (" " or "x\u0001"
 * make a task no URL names plainly, and forged log lines), not "." or ".." (no URL can name
 * it at all), well-formed Unicode (the store would keep another string: see well-formed.ts).
 */
export function taskIdProblem(taskId: string): string | null {
  if (taskId === "") return "must be a non-empty string";
  const tooLong = idLengthProblem(taskId.length);
  if (tooLong !== null) return tooLong;
  if (!NO_SPACE_OR_CONTROL.test(taskId)) return TASK_ID_BLANK_OR_CONTROL;
  if (isDotSegmentId(taskId)) return DOT_SEGMENT_ID;
  return notWellFormed(taskId);
}

/** `taskId` as a message shows it: whole within the bound, else only its length (see idLengthProblem). */
export function shownTaskId(taskId: string): string {
  return taskId.length > MAX_TASK_ID_LENGTH ? "" : ` ${JSON.stringify(taskId)}`;
}

/** Refuses, at submission, a task id taskIdProblem names a problem of (ERR_INVALID_TASK, as POST /tasks). */
export function assertSubmittableTaskId(taskId: string): void {
  const why = taskIdProblem(taskId);
  if (why !== null) throw new TriadError("ERR_INVALID_TASK", `task_id${shownTaskId(taskId)} ${why}`);
}
