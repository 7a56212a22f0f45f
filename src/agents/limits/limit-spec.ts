import { z } from "zod";
import { TriadError } from "../../core/errors.js";
import { taskTypeSchema } from "../../core/state/task-type.js";

/** A limit on one task type, for the whole cluster (SPEC: Scheduling controls). */
export type TaskTypeLimit = { concurrency?: number; rate_per_s?: number };
/** A limit as GET /limits shows it: with the slots in use and the tasks waiting for one, cluster-wide. */
export type LimitView = TaskTypeLimit & { task_type: string; in_use: number; waiting: number };

export const MAX_LIMIT_CONCURRENCY = 1_000_000;
export const MAX_LIMIT_RATE = 1_000_000;
/** The slowest rate: its window (1/rate s) must stay a time Redis can expire a key after. */
export const MIN_LIMIT_RATE = 0.001;

/** A task type as a task is given one: a limit on a type no task can have would never apply. */
export const limitTaskType = taskTypeSchema;

/** The body of PUT /limits/:task_type: at least one of the two. */
export const taskTypeLimit = z
  .strictObject({
    // The range first: a huge value (1e20) is not a safe integer either, and "must be an
    // integer >= 1" named the wrong problem.
    concurrency: z
      .number()
      .min(1, "must be an integer >= 1")
      .max(MAX_LIMIT_CONCURRENCY)
      .int("must be an integer >= 1")
      .optional()
      .describe("Most attempts of the type in progress at once, over every distributor."),
    rate_per_s: z
      .number()
      .gt(0, "must be a number > 0")
      .min(MIN_LIMIT_RATE, `must be at least ${MIN_LIMIT_RATE} (one start per 1000 s)`)
      .max(MAX_LIMIT_RATE)
      .optional()
      .describe("Most attempts of the type started per second (in any window of one second)."),
  })
  .refine((l) => l.concurrency !== undefined || l.rate_per_s !== undefined, {
    message: "give concurrency, rate_per_s or both",
  });

/** Checks a limit at the edge: a TriadError ERR_INVALID_TYPE_LIMIT (422) naming the field, else the limit. */
export function checkLimit(taskType: unknown, limit: unknown): { taskType: string; limit: TaskTypeLimit } {
  const type = limitTaskType.safeParse(taskType);
  if (!type.success) throw invalid(`task_type: ${type.error.issues[0]!.message}`);
  const parsed = taskTypeLimit.safeParse(limit);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const where = issue.path.map(String).join(".") || "limit";
    throw invalid(`${where}: ${issue.message}`);
  }
  const out: TaskTypeLimit = {};
  if (parsed.data.concurrency !== undefined) out.concurrency = parsed.data.concurrency;
  if (parsed.data.rate_per_s !== undefined) out.rate_per_s = parsed.data.rate_per_s;
  return { taskType: type.data, limit: out };
}

const DECIMAL = /^[+-]?(\d+(\.\d+)?|\.\d+)$/;

/**
 * Parses `--limit TYPE=concurrency:20,rate:50` (either part may be left out).
 */
export function parseLimitFlag(text: string): { taskType: string; limit: TaskTypeLimit } {
  if (typeof text !== "string")
    throw invalid(`parseLimitFlag takes the text of a --limit flag (got ${typeof text})`);
  const eq = text.lastIndexOf("=");
  if (eq <= 0) throw invalid(`--limit ${text}: want TYPE=concurrency:N,rate:R`);
  // A type may hold "=", but not a limit: two run together ("a=concurrency:1,b=rate:2") are two flags.
  if (/=(concurrency|rate|rate_per_s):/.test(text.slice(0, eq)))
    throw invalid(`--limit ${text}: one limit a flag (give --limit once for each task type)`);
  const raw: Record<string, number> = {};
  for (const part of text.slice(eq + 1).split(",")) {
    const [key, value, extra] = part.split(":");
    const field =
      key === "concurrency" ? "concurrency" : key === "rate" || key === "rate_per_s" ? "rate_per_s" : null;
    // Decimal digits, as every number flag takes (Number() takes hex, exponents, spaces too).
    if (field === null || value === undefined || extra !== undefined || !DECIMAL.test(value))
      throw invalid(`--limit ${text}: "${part}" is not concurrency:N or rate:R (numbers in decimal digits)`);
    raw[field] = Number(value);
  }
  try {
    return checkLimit(text.slice(0, eq), raw);
  } catch (err) {
    throw invalid(`--limit ${text}: ${(err as Error).message}`);
  }
}

function invalid(message: string): TriadError {
  return new TriadError("ERR_INVALID_TYPE_LIMIT", message, { status: 422 });
}
