import { z } from "zod";
import type { JsonObject, JsonValue } from "../json.js";
import { TaskStatus } from "./status.js";
import { isoTimestamp, jsonObject, jsonValue } from "./validation.js";

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
};

/** What a task does when a dependency ends failed or abandoned: end abandoned too, or run anyway. */
export type DependencyFailurePolicy = "abandon" | "run";

const nonEmpty = z.string().min(1, "must be a non-empty string");

/**
 * What Task.fromDict accepts. Only task_id and task_type are required, so a peer may send a
 * fresh task as `{ task_id, task_type, payload }`; unknown keys are refused (they are typos).
 */
export const taskDictSchema = z.strictObject({
  task_id: nonEmpty,
  task_type: nonEmpty,
  payload: jsonObject.optional(),
  status: z.enum(TaskStatus).optional(),
  result: jsonValue.optional(),
  error: z.string().nullable().optional(),
  attempts: z.number().int().nonnegative().optional(),
  assigned_to: z.string().nullable().optional(),
  created_at: isoTimestamp.optional(),
  started_at: isoTimestamp.nullable().optional(),
  completed_at: isoTimestamp.nullable().optional(),
  depends_on: z.array(nonEmpty).optional(),
  waiting_on: z.array(nonEmpty).optional(),
  on_dependency_failure: z.enum(["abandon", "run"]).optional(),
  parent_id: nonEmpty.optional(),
});
