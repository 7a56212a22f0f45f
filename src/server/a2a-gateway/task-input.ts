import type { Message } from "@a2a-js/sdk";
import { z } from "zod";
import { depthProblem } from "../../agents/payload-depth.js";
import { type ScheduleKeys, scheduleKeysOf } from "../../agents/schedule-controls/task-schedule.js";
import { MAX_DEPENDS_ON } from "../../agents/workflow/graph-validation.js";
import { isPlainObject, type JsonObject, type JsonValue } from "../../core/json.js";
import { MAX_TASK_ID_LENGTH } from "../../core/state/task-id.js";
import { taskTypeSchema } from "../../core/state/task-type.js";
import { isWellFormed, notWellFormedIssue } from "../../core/state/well-formed.js";
import { resolveSchedule } from "../schedule-fields.js";

/** What a SendMessage asks Triad to run, or why it cannot be run. */
export type TaskInput =
  | {
      ok: true;
      taskType: string;
      payload: JsonObject;
      /** Workflows: the task waits for these to end (SPEC "Workflows"). */
      dependsOn?: string[];
      onDependencyFailure?: "abandon" | "run";
      /** Scheduling controls (SPEC "Scheduling controls"): priority, run_at, expires_at. */
      schedule?: ScheduleKeys;
    }
  | { ok: false; reason: string };

export const INPUT_SHAPE = 'one data part {"task_type": "<type>", "payload": {...}}';
/** The flag that lets plain text in (also TRIAD_A2A_TEXT_TYPE). */
export const TEXT_TYPE_FLAG = "--a2a-text-type";

const json: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);
const zonedTime = z.iso.datetime({ offset: true, message: "must be an ISO-8601 time with Z or an offset" });
const taskRequest = z
  .object({
    task_type: taskTypeSchema,
    payload: z.record(z.string(), json).default({}),
    depends_on: z
      .array(z.string().min(1).max(MAX_TASK_ID_LENGTH).refine(isWellFormed, { error: notWellFormedIssue }))
      .max(MAX_DEPENDS_ON)
      .optional(),
    on_dependency_failure: z.enum(["abandon", "run"]).optional(),
    priority: z.number().min(0).max(9).int().optional(), // the bounds first: see http-schemas

    run_at: zonedTime.optional(),
    delay_ms: z
      .number()
      .min(0)
      .max(10 * 365 * 24 * 3600 * 1000)
      .int()
      .optional(),
    expires_at: zonedTime.optional(),
  })
  .strict();

/**
 * Reads the task out of a message: exactly one data part holding `{ task_type, payload }`
 * (and, for a workflow step, `depends_on` and `on_dependency_failure`; to schedule it,
 * `priority`, `run_at` or `delay_ms`, `expires_at`)
 * (text parts beside it are ignored, so a client may add a note for humans). A message of
 * text alone — what most A2A clients send — is a `textType` task with payload `{ text }`, the
 * text parts joined by newlines, when the operator named a type for it.
 */
export function readTaskInput(message: Message, textType?: string): TaskInput {
  const data = message.parts.flatMap((p) =>
    p.content?.$case === "data" ? [p.content.value as unknown] : [],
  );
  const texts = message.parts.flatMap((p) => (p.content?.$case === "text" ? [p.content.value] : []));
  if (data.length === 0 && texts.length > 0) {
    if (textType) return { ok: true, taskType: textType, payload: { text: texts.join("\n") } };
    return {
      ok: false,
      reason:
        `a Triad task is ${INPUT_SHAPE}; the message has text only ` +
        `(to run text messages, start the coordinator with ${TEXT_TYPE_FLAG} TYPE)`,
    };
  }
  if (data.length !== 1) {
    const got = data.length === 0 ? "no data part" : `${data.length} data parts`;
    return { ok: false, reason: `a Triad task is ${INPUT_SHAPE}; the message has ${got}` };
  }
  // Before the schema, whose walk recurses: a payload too deep to run is refused with its reason.
  const tooDeep = isPlainObject(data[0]) ? depthProblem(data[0].payload, "payload") : null;
  if (tooDeep !== null) return { ok: false, reason: tooDeep };
  const parsed = taskRequest.safeParse(data[0]);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join(".") || "the data part";
    return { ok: false, reason: `${where}: ${issue.message} (a Triad task is ${INPUT_SHAPE})` };
  }
  const { task_type, payload, depends_on, on_dependency_failure, ...when } = parsed.data;
  const scheduled = resolveSchedule(when);
  if ("problem" in scheduled) return { ok: false, reason: `${scheduled.field}: ${scheduled.problem}` };
  const schedule = scheduleKeysOf(scheduled.task);
  return {
    ok: true,
    taskType: task_type,
    payload: payload as JsonObject,
    ...(depends_on?.length ? { dependsOn: depends_on } : {}),
    ...(on_dependency_failure ? { onDependencyFailure: on_dependency_failure } : {}),
    ...(Object.keys(schedule).length > 0 ? { schedule } : {}),
  };
}
