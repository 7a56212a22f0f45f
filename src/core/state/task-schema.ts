import { z } from "zod";
import type { JsonObject, JsonValue } from "../json.js";
import { TaskStatus } from "./status.js";
import { isoTimestamp, jsonObject, jsonValue } from "./validation.js";
import { isWellFormed, notWellFormedIssue } from "./well-formed.js";

/** A task as JSON: exactly the keys of SPEC.md, the form on the wire and in Redis. */
export type TaskDict = {
  task_id: string;
  task_type: string;
  payload: JsonObject;
  status: TaskStatus;
  result: JsonValue;
  error: string | null;
  attempts: number;
  assigned_to: string | null;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  /** Workflows (SPEC "Workflows"): absent when unused, so a seed-shaped dict stays as it was. */
  depends_on?: string[];
  waiting_on?: string[];
  on_dependency_failure?: DependencyFailurePolicy;
  parent_id?: string;
  /** Scheduling (SPEC "Scheduling controls"): absent when unused (priority 0 is absent). */
  priority?: number;
  run_at?: string;
  expires_at?: string;
  /** Human input (SPEC "Waiting for input"): absent when unused. What a waiting task asks for. */
  input_request?: JsonValue;
  /** How long it may wait for input before it ends abandoned (default 86,400,000). */
  input_timeout_ms?: number;
  /** Every value given to it so far, in order (its handler's ctx.inputs). */
  inputs?: JsonValue[];
  /** The latest value its handler gave ctx.progress (SPEC "progress"): absent until one. */
  progress?: JsonValue;
};

/** What a task does when a dependency ends failed or abandoned: end abandoned too, or run anyway. */
export type DependencyFailurePolicy = "abandon" | "run";

const nonEmpty = z.string().min(1, "must be a non-empty string");
/**
 * An id or a type: non-empty and well-formed Unicode. A lone surrogate would reach the store
 * as U+FFFD, another id (well-formed.ts); every entry refuses it, and so does fromDict.
 */
const key = nonEmpty.refine(isWellFormed, { error: notWellFormedIssue });
/** A moment, so with its zone (Z or an offset): a time without one means different moments on different hosts. */
const zonedTimestamp = z.iso.datetime({
  offset: true,
  message: "must be an ISO-8601 time with Z or an offset",
});

/**
 * What Task.fromDict accepts. Only task_id and task_type are required, so a peer may send a
 * fresh task as `{ task_id, task_type, payload }`; unknown keys are refused (they are typos).
 */
export const taskDictSchema = z.strictObject({
  task_id: key,
  task_type: key,
  payload: jsonObject.optional(),
  status: z.enum(TaskStatus).optional(),
  result: jsonValue.optional(),
  error: z.string().nullable().optional(),
  attempts: z.number().int().nonnegative().optional(),
  assigned_to: z.string().nullable().optional(),
  created_at: isoTimestamp.optional(),
  started_at: isoTimestamp.nullable().optional(),
  completed_at: isoTimestamp.nullable().optional(),
  depends_on: z.array(key).optional(),
  waiting_on: z.array(key).optional(),
  on_dependency_failure: z.enum(["abandon", "run"]).optional(),
  parent_id: key.optional(),
  priority: z.number().int("must be an integer from 0 to 9").min(0).max(9).optional(),
  run_at: zonedTimestamp.optional(),
  expires_at: zonedTimestamp.optional(),
  input_request: jsonValue.optional(),
  input_timeout_ms: z.number().int().positive().optional(),
  inputs: z.array(jsonValue).optional(),
  progress: jsonValue.optional(),
});
