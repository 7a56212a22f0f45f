import { CronExpressionParser } from "cron-parser";
import { z } from "zod";
import { TriadError } from "../../core/errors.js";
import type { JsonObject, JsonValue } from "../../core/json.js";
import { shownValue } from "../../core/option-kinds.js";
import { taskDictSchema } from "../../core/state/task-schema.js";
import { taskTypeSchema } from "../../core/state/task-type.js";
import { isWellFormed, notWellFormedIssue } from "../../core/state/well-formed.js";
import { checkIdArgument } from "../call-arguments.js";

/** What makes a recurring task (SPEC: Scheduling controls): a cron expression or a fixed period. */
export type ScheduleInput = {
  schedule_id: string;
  /** Five fields (minute hour day-of-month month day-of-week), in `timezone` (default UTC). */
  cron?: string;
  /** A period; ticks fall on whole multiples of it since the Unix epoch (60000: on each minute). */
  every_ms?: number;
  timezone?: string;
  /** The task each tick makes: task_type, payload, and other task keys (priority, ...). */
  task: { task_type: string; payload?: JsonObject } & Record<string, JsonValue | undefined>;
};
/** A schedule as stored: checked, payload defaulted. */
export type ScheduleSpec = Omit<ScheduleInput, "task"> & {
  task: { task_type: string; payload: JsonObject } & Record<string, JsonValue>;
};
/** A schedule as GET /schedules shows it. */
export type ScheduleView = ScheduleSpec & {
  /** The next fire times (the first is when the next task is made), ISO-8601 UTC. */
  next_runs: string[];
  last_tick: string | null;
  /** Ids of the tasks the latest ticks made, newest first. */
  recent_task_ids: string[];
};

export const MIN_EVERY_MS = 1000;
export const MAX_EVERY_MS = 366 * 24 * 3600 * 1000;
/**
 * Most bytes of schedule records in a page (GET /schedules): 100 schedules of up to 1 MiB each
 * (a POST body's bound) were a 100 MiB answer. A schedule alone over it is a page of its own.
 */
export const SCHEDULE_PAGE_BYTES = 4 * 1024 * 1024;
/** Keys of a task's state, which a template cannot set. */
const STATE_KEYS = [
  "task_id",
  "status",
  "result",
  "error",
  "attempts",
  "assigned_to",
  "created_at",
  "started_at",
  "completed_at",
  "depends_on",
  "waiting_on",
  "parent_id",
  "run_at",
  "input_request",
  "inputs",
];

export const scheduleId = z
  .string()
  .min(1, "must be a non-empty string")
  .max(150, "must be at most 150 characters")
  .regex(/^[^\s\p{Cc}@/]+$/u, "must not contain whitespace, control characters, '@' or '/'")
  // Dot segments: every URL parser drops them from /schedules/<id>, so no GET or DELETE could name it.
  .refine((id) => id !== "." && id !== "..", {
    error: 'must not be "." or ".." (no URL can name such a schedule)',
  })
  // A lone surrogate reaches the store as U+FFFD: the schedule and its tasks' ids would be another's.
  .refine(isWellFormed, { error: notWellFormedIssue });

export const scheduleInput = z
  .strictObject({
    schedule_id: scheduleId.describe(
      "Names the schedule; its tasks are `<schedule_id>@<tick, ISO-8601 UTC>`.",
    ),
    cron: z
      .string()
      .optional()
      .describe("Five fields: minute hour day-of-month month day-of-week, e.g. */5 * * * *."),
    // The range first: a huge period (1e20) is not a safe integer either, and "must be an
    // integer" named the wrong problem.
    every_ms: z
      .number()
      .min(MIN_EVERY_MS, `must be at least ${MIN_EVERY_MS} ms (1 second)`)
      .max(MAX_EVERY_MS, `must be at most ${MAX_EVERY_MS} ms (366 days)`)
      .int("must be an integer")
      .optional()
      .describe(
        "A period in ms, 1000 (1 second) to 31622400000 (366 days); ticks fall on its multiples since the Unix epoch.",
      ),
    timezone: z.string().optional().describe("IANA time zone of the cron fields (default UTC)."),
    task: z
      .looseObject({
        task_type: taskTypeSchema,
        payload: z.record(z.string(), z.unknown()).optional(),
      })
      .describe("The task each tick makes: task_type, payload and other task keys (priority, ...)."),
  })
  .describe("A recurring schedule: exactly one of cron and every_ms.");

/** Checks a schedule at the edge: ERR_INVALID_SCHEDULE (422) naming the field, else the schedule as stored. */
export function checkSchedule(input: unknown): ScheduleSpec {
  const parsed = scheduleInput.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw invalid(`${issue.path.map(String).join(".") || "schedule"}: ${issue.message}`);
  }
  const s = parsed.data;
  if ((s.cron === undefined) === (s.every_ms === undefined))
    throw invalid("cron, every_ms: give exactly one of them");
  if (s.timezone !== undefined) {
    if (s.cron === undefined) throw invalid("timezone: only a cron schedule has one");
    try {
      new Intl.DateTimeFormat("en-US", { timeZone: s.timezone });
    } catch {
      throw invalid(`timezone: ${JSON.stringify(s.timezone)} is not an IANA time zone`);
    }
  }
  if (s.cron !== undefined) {
    if (s.cron.trim().split(/\s+/).length !== 5)
      throw invalid("cron: want five fields (minute hour day-of-month month day-of-week)");
    if (hashedField(s.cron))
      throw invalid(
        `cron: ${JSON.stringify(s.cron)} has a hashed value (H), which a schedule cannot be given: write the minute, hour or day itself`,
      );
    try {
      cronFrom({ schedule_id: s.schedule_id, cron: s.cron, timezone: s.timezone }, Date.now()).next();
    } catch (err) {
      throw invalid(`cron: ${JSON.stringify(s.cron)} is not a cron expression (${(err as Error).message})`);
    }
  }
  for (const key of STATE_KEYS)
    if (key in s.task) throw invalid(`task.${key}: a schedule's task cannot set it (each tick sets its own)`);
  const { task_type, payload, ...keys } = s.task;
  const task = { task_type, payload: (payload ?? {}) as JsonObject, ...(keys as Record<string, JsonValue>) };
  const asTask = taskDictSchema.safeParse({ task_id: `${s.schedule_id}@tick`, ...task });
  if (!asTask.success) {
    const issue = asTask.error.issues[0]!;
    throw invalid(`${["task", ...issue.path.map(String)].join(".")}: ${issue.message}`);
  }
  const expiresAt = asTask.data.expires_at;
  if (expiresAt !== undefined && Date.parse(expiresAt) <= Date.now())
    throw invalid(`task.expires_at: ${expiresAt} has passed: every tick's task would end expired`);
  return {
    schedule_id: s.schedule_id,
    ...(s.cron !== undefined ? { cron: s.cron.trim() } : {}),
    ...(s.every_ms !== undefined ? { every_ms: s.every_ms } : {}),
    ...(s.timezone !== undefined ? { timezone: s.timezone } : {}),
    task,
  };
}

/**
 * Whether a cron expression has a hashed value ("H", "H/15", "H(0-29)"): refused in a new
 * schedule, since its value would rest on cron-parser's hash (see cronFrom). Month and
 * day-of-week names (THU) are read as cron-parser reads them: any three letters are a name.
 */
function hashedField(cron: string): boolean {
  return cron
    .trim()
    .split(/\s+/)
    .some((field, i) => (i >= 3 ? field.replace(/[a-z]{3}/gi, "") : field).includes("H"));
}

/**
 * The cron of a schedule, read from `fromMs`. A hashed value (H) is drawn from the schedule's id,
 * as Jenkins does with a job's name: cron-parser otherwise draws it from Math.random on every
 * parse, and a cron is parsed again for every fire time, on every coordinator, so the ticks of a
 * schedule stored with one (before H was refused) moved on every look, and so did their task ids.
 */
function cronFrom(spec: Pick<ScheduleSpec, "schedule_id" | "cron" | "timezone">, fromMs: number) {
  return CronExpressionParser.parse(spec.cron!, {
    currentDate: new Date(fromMs),
    tz: spec.timezone ?? "UTC",
    hashSeed: spec.schedule_id,
  });
}

/** The first `n` fire times strictly after `afterMs`. */
export function ticksAfter(spec: ScheduleSpec, afterMs: number, n: number): number[] {
  const out: number[] = [];
  if (spec.every_ms !== undefined) {
    let t = (Math.floor(afterMs / spec.every_ms) + 1) * spec.every_ms;
    for (let i = 0; i < n; i++, t += spec.every_ms) out.push(t);
    return out;
  }
  const it = cronFrom(spec, afterMs);
  for (let i = 0; i < n; i++) out.push(it.next().getTime());
  return out;
}

/** The latest fire time at or before `nowMs` (ticks missed before it collapse into it). */
export function latestTick(spec: ScheduleSpec, nowMs: number): number {
  if (spec.every_ms !== undefined) return Math.floor(nowMs / spec.every_ms) * spec.every_ms;
  return cronFrom(spec, nowMs + 1)
    .prev()
    .getTime();
}

/**
 * The id of the task a tick makes: the same whoever fires it, so a second firing records nothing.
 * A scheduleId that is not a non-empty string (5 made "5@...") or a tickMs that is not a finite
 * number (NaN threw a RangeError, "5" was read as the year 5) is refused with ERR_INVALID_ARGUMENT.
 */
export function tickTaskId(scheduleId: string, tickMs: number): string {
  checkIdArgument("tickTaskId", "scheduleId", scheduleId);
  const at = typeof tickMs === "number" ? new Date(tickMs) : undefined;
  if (at === undefined || Number.isNaN(at.getTime()))
    throw new TriadError(
      "ERR_INVALID_ARGUMENT",
      `tickTaskId: tickMs must be a time in milliseconds since the epoch (got ${shownValue(tickMs)})`,
      { argument: "tickMs" },
    );
  return `${scheduleId}@${at.toISOString()}`;
}

function invalid(message: string): TriadError {
  return new TriadError("ERR_INVALID_SCHEDULE", message, { status: 422 });
}
