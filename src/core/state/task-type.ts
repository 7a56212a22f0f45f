import { z } from "zod";
import { TriadError } from "../errors.js";
import { isWellFormed, notWellFormed, notWellFormedIssue } from "./well-formed.js";

/**
 * The longest task type, in characters, wherever one is given: a submitted or spawned task, a
 * limit (PUT /limits/:task_type, --limit), a schedule's task, POST /tasks and the A2A gateway.
 * One bound, so that a type one surface takes is never refused by another (as task ids: MAX_TASK_ID_LENGTH).
 */
export const MAX_TASK_TYPE_LENGTH = 200;

export const TASK_TYPE_TOO_LONG = `must be at most ${MAX_TASK_TYPE_LENGTH} characters`;
export const TASK_TYPE_REQUIRED =
  'required (the task type, which handler runs it: "echo", "compute", or yours)';
export const TASK_TYPE_BLANK = "must not be blank (empty or only white space)";
export const TASK_TYPE_CONTROL = "must not contain control characters";
/** As for task ids: "." and ".." are dot segments, which URL parsers drop from /limits/<type>. */
export const TASK_TYPE_DOT_SEGMENT = 'must not be "." or ".." (no URL can name such a type: /limits/<type>)';

/** Some character that is not white space (JS \s is exactly what String.trim removes). */
const NOT_BLANK = /\S/u;
const NO_CONTROL = /^[^\p{Cc}]*$/u;
const NOT_DOT_SEGMENT = /^(?!\.\.?$)/u;

/**
 * A task type as every entry takes it (REST, the library, the CLI, A2A, schedules, limits,
 * spawned tasks): non-empty, not only white space, no control character (a NUL or a line break
 * is a type no handler can have: recorded, it failed on a worker later, or forged log lines), not
 * "." or ".." (a limit on it could never be set, read or removed by URL), at most
 * MAX_TASK_TYPE_LENGTH, well-formed Unicode. Spaces or dots inside a type ("my type", "a.b") are fine.
 */
export const taskTypeSchema = z
  // Left out, it is "required" (zod said "expected string, received undefined").
  .string({ error: (issue) => (issue.input === undefined ? TASK_TYPE_REQUIRED : undefined) })
  .min(1, "must be a non-empty string")
  .max(MAX_TASK_TYPE_LENGTH, TASK_TYPE_TOO_LONG)
  .regex(NOT_BLANK, TASK_TYPE_BLANK)
  .regex(NO_CONTROL, TASK_TYPE_CONTROL)
  .regex(NOT_DOT_SEGMENT, TASK_TYPE_DOT_SEGMENT)
  .refine(isWellFormed, { error: notWellFormedIssue });

/** Why `taskType` cannot be given as a task type (taskTypeSchema's rules, in its words), or null. */
export function taskTypeProblem(taskType: string): string | null {
  if (taskType.length > MAX_TASK_TYPE_LENGTH) return `${TASK_TYPE_TOO_LONG} (got ${taskType.length})`;
  if (!NOT_BLANK.test(taskType)) return TASK_TYPE_BLANK;
  if (!NO_CONTROL.test(taskType)) return TASK_TYPE_CONTROL;
  if (!NOT_DOT_SEGMENT.test(taskType)) return TASK_TYPE_DOT_SEGMENT;
  return notWellFormed(taskType);
}

/** Refuses, at submission, a task type taskTypeProblem names a problem of (ERR_INVALID_TASK). */
export function assertSubmittableTaskType(taskType: string): void {
  const why = taskTypeProblem(taskType);
  if (why === null) return;
  // A type too long is not repeated in the message.
  const shown = taskType.length > MAX_TASK_TYPE_LENGTH ? "" : ` ${JSON.stringify(taskType)}`;
  throw new TriadError("ERR_INVALID_TASK", `task_type${shown} ${why}`);
}
