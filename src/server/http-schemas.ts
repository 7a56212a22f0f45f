import { z } from "zod";
import { taskTypeLimit } from "../agents/limits/limit-spec.js";
import { MAX_PAYLOAD_DEPTH } from "../agents/payload-depth.js";
import { SCHEDULE_PAGE_BYTES, scheduleInput } from "../agents/schedules/schedule-spec.js";
import { MAX_DEPENDS_ON } from "../agents/workflow/graph-validation.js";
import type { JsonValue } from "../core/json.js";
import {
  DOT_SEGMENT_ID,
  MAX_TASK_ID_LENGTH,
  NO_SPACE_OR_CONTROL,
  TASK_ID_BLANK_OR_CONTROL,
} from "../core/state/task-id.js";
import { taskTypeSchema } from "../core/state/task-type.js";
import { isWellFormed, notWellFormedIssue } from "../core/state/well-formed.js";

/**
 * The REST API's bodies, query parameters and answers, once: the routes validate with the
 * request schemas, and the OpenAPI document (openapi.ts) is generated from all of them. Each
 * schema the document names is in NAMED_SCHEMAS under its component name.
 */
export const NAMED_SCHEMAS: Array<[id: string, schema: z.ZodType]> = [];

const named = <T extends z.ZodType>(schema: T, id: string, description: string): T => {
  const described = schema.describe(description) as T;
  NAMED_SCHEMAS.push([id, described]);
  return described;
};

export const jsonValue: z.ZodType<JsonValue> = named(
  z.lazy(() =>
    z.union([
      z.string(),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(jsonValue),
      z.record(z.string(), jsonValue),
    ]),
  ),
  "JsonValue",
  "Any JSON value.",
);

export const TASK_STATUSES = [
  "pending",
  "in_progress",
  "completed",
  "failed",
  "abandoned",
  "input_required",
] as const;
export const taskStatus = named(z.enum(TASK_STATUSES), "TaskStatus", "Where a task is in its life.");

/**
 * A task id a client may choose: also a URL path segment, so never "." or "..". The rule of
 * taskIdProblem (task-id.ts), which submitTask and spawned tasks keep, written as a schema.
 */
export const taskId = z
  .string()
  .min(1)
  .max(MAX_TASK_ID_LENGTH)
  .regex(NO_SPACE_OR_CONTROL, TASK_ID_BLANK_OR_CONTROL)
  .regex(/^(?!\.\.?$)/, DOT_SEGMENT_ID)
  .refine(isWellFormed, { error: notWellFormedIssue });

// ---- requests

/** An ISO-8601 time with Z or an offset: a time without a zone names different moments on different hosts. */
const zonedTime = z.iso.datetime({ offset: true, message: "must be an ISO-8601 time with Z or an offset" });
/** delay_ms at most ten years. */
const MAX_DELAY_MS = 10 * 365 * 24 * 3600 * 1000;

export const newTask = named(
  z.strictObject({
    task_id: taskId
      .optional()
      .describe(
        "The idempotency key: a task id already recorded is answered as it stands (200), not recorded again. Default: a random UUID.",
      ),
    task_type: taskTypeSchema.describe(
      "Which handler runs it (compute, echo, sleep, data_processing, or yours).",
    ),
    payload: z.record(z.string(), jsonValue).default({}).describe("The handler's input."),
    depends_on: z
      .array(taskId)
      .max(MAX_DEPENDS_ON)
      .optional()
      .describe(
        "Ids (known, or in the same request) that must end before this task runs; no cycles, and a request chains at most 1,000 levels of them.",
      ),
    on_dependency_failure: z
      .enum(["abandon", "run"])
      .optional()
      .describe(
        'When a dependency ends failed or abandoned: "abandon" (the default) ends this one abandoned too; "run" runs it anyway.',
      ),
    // .int() after the bounds: zod names the first check a value fails, and int()'s own bound is
    // Number.MAX_SAFE_INTEGER ("expected int to be <=9007199254740991" for 1e20).
    priority: z
      .number()
      .min(0)
      .max(9)
      .int()
      .optional()
      .describe("0-9, higher runs first (strictly), first in first out within one. Default 0."),
    run_at: zonedTime.optional().describe("Not started before this time."),
    delay_ms: z
      .number()
      .min(0)
      .max(MAX_DELAY_MS)
      .int()
      .optional()
      .describe("Milliseconds from now before it may start: recorded as run_at. Not with run_at."),
    expires_at: zonedTime
      .optional()
      .describe(
        'Not started by this time, it ends abandoned with error "expired" (already passed: accepted, and ends so at once without running). After run_at.',
      ),
    input_timeout_ms: z
      .number()
      .int()
      .positive()
      .optional()
      .describe(
        "How long it may wait for input (input_required) before it ends abandoned. Default 86,400,000 (24 h).",
      ),
  }),
  "NewTask",
  `A task to submit. Its payload may nest at most ${MAX_PAYLOAD_DEPTH} levels deep (deeper is refused with 422 ERR_INVALID_TASK).`,
);

/** POST /tasks/{task_id}/input: the value given to a task waiting for input. */
export const taskInputBody = named(
  z.strictObject({
    question: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "The question answered: how many inputs the task had been given when it asked (the length of its `inputs`, 0 when absent). When given, an answer to a question the task no longer asks is refused (409), so a stale page cannot answer the next one.",
      ),
    value: jsonValue.describe(
      "Any JSON: what the task asked for (its handler gets it in ctx.inputs, a graph as the resume value).",
    ),
  }),
  "TaskInput",
  `Input for a task waiting for it (input_required). The value may nest at most ${MAX_PAYLOAD_DEPTH} levels deep.`,
);

/** POST /tasks: one task, or an array of 1..maxBatch (answered with an array). */
export const submitBody = (maxBatch: number) => z.union([newTask, z.array(newTask).min(1).max(maxBatch)]);

/** GET /tasks/{task_id}?wait=: ms to wait for the task to finish (long poll). */
export const waitMs = z
  .number()
  .min(0)
  .max(300_000)
  .describe("Milliseconds to wait for the task to finish before answering it as it stands (long poll).");

export const MAX_LIST_LIMIT = 1000;
/** GET /tasks?limit=: larger values are taken as MAX_LIST_LIMIT. */
export const listLimit = z
  .number()
  .int()
  .min(1)
  .describe(`Most tasks in the answer; values above ${MAX_LIST_LIMIT} are taken as ${MAX_LIST_LIMIT}.`);

// ---- answers

const errorDetail = z.object({
  code: z.string().describe("Stable, to branch on (ERR_...)."),
  message: z.string().describe("What was wrong and what to do, for a human."),
});

export const errorAnswer = named(z.object({ error: errorDetail }), "Error", "Every error answer.");

const isoTime = z.string().describe("ISO-8601 time");

export const task = named(
  z.object({
    task_id: z.string(),
    task_type: z.string(),
    payload: z.record(z.string(), jsonValue),
    status: taskStatus,
    result: jsonValue.describe("The handler's result once completed; null before."),
    error: z.string().nullable().describe("Why it failed or was abandoned."),
    attempts: z.number().int().min(0),
    assigned_to: z.string().nullable().describe("The worker running it (or that ran it last)."),
    created_at: isoTime,
    started_at: isoTime.nullable(),
    completed_at: isoTime.nullable(),
    depends_on: z.array(z.string()).optional().describe("Present only on a task with dependencies."),
    waiting_on: z.array(z.string()).optional().describe("Of depends_on, those not ended yet."),
    on_dependency_failure: z.enum(["abandon", "run"]).optional(),
    parent_id: z.string().optional().describe("The task whose handler spawned this one."),
    priority: z.number().int().min(1).max(9).optional().describe("Present only when above 0."),
    run_at: isoTime.optional().describe("Not started before it (present only when given)."),
    expires_at: isoTime
      .optional()
      .describe('Not started by then: abandoned "expired" (present only when given).'),
    progress: jsonValue
      .optional()
      .describe("The latest value its handler reported with ctx.progress; absent until one."),
    input_request: jsonValue
      .optional()
      .describe("While input_required: what it asks for (a graph's interrupt value, ctx.requestInput's)."),
    input_timeout_ms: z.number().int().optional().describe("How long it may wait for input; absent: 24 h."),
    inputs: z.array(jsonValue).optional().describe("Every value given to it so far, in order."),
  }),
  "Task",
  "A task as recorded (the task dict of SPEC.md).",
);

export const taskGraph = named(
  z.object({
    nodes: z.array(task),
    edges: z
      .array(z.tuple([z.string(), z.string(), z.enum(["depends", "spawned"])]))
      .describe(
        '[from, to, kind]: "depends" from a dependency to its dependent, "spawned" from a parent to its child.',
      ),
    truncated: z
      .boolean()
      .describe("True when the workflow has more than 10,000 tasks and only those were walked."),
  }),
  "TaskGraph",
  "The workflow a task belongs to.",
);

export const taskList = named(
  z.object({
    tasks: z.array(task),
    partial: z
      .literal(true)
      .optional()
      .describe(
        "Present when some live coordinator did not answer for its recently finished tasks in time: they are missing from this list.",
      ),
    unreached: z
      .array(z.string())
      .optional()
      .describe("With `partial`: the ids of the coordinators whose recently finished tasks are missing."),
  }),
  "TaskList",
  "Tasks, in the order asked.",
);
/** GET /tasks?scope=: `local` asks one coordinator for its own window only (what the others send). */
export const listScope = z
  .enum(["cluster", "local"])
  .describe(
    "`cluster` (default): finished tasks of every live coordinator. `local`: only those that ended through this coordinator (what coordinators ask each other).",
  );

export const taskNotRecorded = named(
  z.object({ task_id: z.string(), error: errorDetail }),
  "TaskNotRecorded",
  "A task of a batch that was not recorded, and why. `ERR_DUPLICATE_TASK_ID`: an earlier task of the same request has its id; that one was submitted, this one was not (the message names the earlier one's index).",
);

export const submittedTasks = named(
  z.object({ tasks: z.array(z.union([task, taskNotRecorded])) }),
  "SubmittedTasks",
  "The tasks of an array, in the order sent: each as recorded, or, for a later task with an earlier one's id, `ERR_DUPLICATE_TASK_ID`.",
);

export const batchNotRecorded = named(
  z.object({ error: errorDetail, tasks: z.array(z.union([task, taskNotRecorded])) }),
  "BatchNotRecorded",
  "A batch recorded in part: each task's own outcome, in the order sent. Sending the whole batch again records each task once.",
);

export const agentInfo = named(
  z.object({
    id: z.string(),
    tier: z.enum(["coordinator", "distributor", "worker"]),
    status: z.string().describe("idle, busy, error, recovering, or dead"),
    stopped: z
      .literal(true)
      .optional()
      .describe(
        "With status dead: it stopped gracefully (it said so before it went silent), not a crash. Absent otherwise.",
      ),
    last_heartbeat: isoTime.nullable(),
    parent: z.string().nullable().describe("The agent it reports to (null for the coordinator)."),
    load: z
      .number()
      .int()
      .min(0)
      .describe("What it holds: running and queued (a coordinator: tasks waiting for a distributor)."),
    running: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        "Of load, the tasks handlers run now: a worker's at most its capacity, a distributor's its live workers' sum.",
      ),
    queued: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("Of load, the rest: held and waiting for a worker slot (a coordinator: for a distributor)."),
    capacity: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe("How many tasks it runs at once: a worker's concurrency, a distributor's live workers' sum."),
    done: z.number().int().min(0),
    url: z
      .string()
      .nullable()
      .optional()
      .describe("Where a distributor or a coordinator is reached (null in-process)."),
    shards: z
      .array(z.number().int().min(0))
      .optional()
      .describe("The task shards a coordinator owns (several coordinators split the 16 between them)."),
    store_unreachable_since: isoTime
      .optional()
      .describe(
        "The coordinator asked, when it cannot reach its store now: since when. Absent while the store answers.",
      ),
    task_types: z.array(z.string()).optional().describe("What a worker runs."),
    remote_agents: z
      .array(z.object({ name: z.string(), url: z.string(), skills: z.array(z.string()) }))
      .optional()
      .describe("The remote A2A agents a worker bridges (triad worker --a2a-agent): name, URL, skills."),
  }),
  "Agent",
  "One agent of any tier.",
);

export const agentsAnswer = named(
  z.object({
    agents: z.array(agentInfo),
    tasks: z
      .object({
        submitted: z.number(),
        duplicates: z.number(),
        completed: z.number(),
        failed: z.number(),
        abandoned: z.number(),
        reassigned: z.number(),
        distributorsDead: z.number(),
        unplaced: z.number().describe("Accepted, on no distributor yet."),
        input_required: z
          .number()
          .describe("Waiting for input, in the whole store (as counted about once a second)."),
      })
      .describe("This coordinator's task counts since it started."),
    cluster_tasks: z
      .object({
        submitted: z.number(),
        waiting: z.number().describe("Accepted, waiting for a healthy distributor."),
        in_flight: z.number().describe("Held by live distributors: queued there or running."),
        completed: z.number(),
        failed: z.number(),
        abandoned: z.number(),
        retried: z.number(),
        reassigned: z.number(),
        input_required: z.number(),
      })
      .optional()
      .describe(
        "The whole cluster's task counts, as the dashboard shows them: every coordinator's that served this store, kept in the store (a coordinator that died, stopped or restarted leaves its counts in: they never go down); waiting and in_flight are now. Absent from an older coordinator's answer.",
      ),
  }),
  "Agents",
  "Every agent of every tier, and the task counts.",
);

export const taskEvent = named(
  z.object({
    type: z
      .enum(["snapshot", "status", "attempt", "progress", "input_request", "terminal"])
      .describe(
        "The most significant change since the last event: snapshot (the first event of a stream), status, attempt (a new attempt started), progress, input_request, terminal (the last event).",
      ),
    task: task.describe("The task as it is now."),
  }),
  "TaskEvent",
  "One event of GET /tasks/{task_id}/events: the JSON of its `data:` line.",
);

// ---- per-task-type limits (src/agents/limits/)

export const limitBody = named(
  taskTypeLimit,
  "TaskTypeLimit",
  "A limit on one task type for the whole cluster.",
);

export const limitView = named(
  z.object({
    task_type: z.string(),
    concurrency: z.number().int().optional(),
    rate_per_s: z.number().optional(),
    in_use: z.number().int().describe("Attempts of the type holding a slot now, over every distributor."),
    waiting: z
      .number()
      .int()
      .describe("Tasks of the type waiting for a slot (as their distributors last said)."),
  }),
  "Limit",
  "A task type's limit and its use.",
);

export const limitList = named(z.object({ limits: z.array(limitView) }), "LimitList", "Every limit.");

// ---- recurring schedules (src/agents/schedules/)

export const newSchedule = named(
  scheduleInput,
  "NewSchedule",
  "A recurring schedule: exactly one of cron (with an optional timezone) and every_ms (>= 1000).",
);

export const scheduleView = named(
  z.object({
    schedule_id: z.string(),
    cron: z.string().optional(),
    every_ms: z.number().int().optional(),
    timezone: z.string().optional(),
    task: z.record(z.string(), jsonValue).describe("The task each tick makes (task_type, payload, ...)."),
    next_runs: z.array(isoTime).describe("The next fire times; the first is when the next task is made."),
    last_tick: isoTime.nullable().describe("The last tick fired."),
    recent_task_ids: z.array(z.string()).describe("Ids of the tasks of the latest ticks, newest first."),
  }),
  "Schedule",
  "A recurring schedule with its next run times and recent task ids.",
);

export const scheduleList = named(
  z.object({
    schedules: z
      .array(scheduleView)
      .describe(
        `At most \`limit\` schedules, in schedule id order (bytewise); fewer when their records would pass ${SCHEDULE_PAGE_BYTES / 1024 / 1024} MiB (at least one, whatever its size).`,
      ),
    next_cursor: z
      .string()
      .nullable()
      .describe(
        "Send it as `cursor` for the next page (it continues after this page's last schedule); null on the last page.",
      ),
  }),
  "ScheduleList",
  "A page of the schedules.",
);
