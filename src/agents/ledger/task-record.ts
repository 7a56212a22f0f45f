import type { JsonObject, JsonValue } from "../../core/json.js";
import { formatTimestamp } from "../../core/messaging/timestamp.js";
import type { TaskStatus } from "../../core/state/status.js";
import type { TaskDict } from "../../core/state/task-schema.js";
import { type ScheduleKeys, scheduleArg, scheduleKeysOfRecord } from "../schedule-controls/task-schedule.js";
import { DEFAULT_BACKOFF_MS, DEFAULT_MAX_RETRIES } from "./ledger-scripts.js";
import type { AttemptOutcome } from "./ledger-verdicts.js";

/** A task as the ledger keeps it: the seed's task dict plus what ownership and retries need. */
export type TaskRecord = {
  task: LedgerTaskDict;
  fence: number;
  distributor: string | null;
  failures: number;
  maxRetries: number;
  backoffMs: number;
  /** Epoch ms before which a retry is not started. */
  notBefore: number | null;
  /** Tasks its completed attempt spawned, not yet recorded (JSON array), or null. */
  spawnJson: string | null;
  /** Ids of the tasks it spawned, once recorded. */
  spawned: string[];
  /** Reached by a cancel cascade: the reason it ends with (workflow-keeper.ts, cascadeCancel). Absent otherwise. */
  canceled?: string;
  /** Its reassignments off dead distributors, as reassigned-tasks-1.lua keeps them (JSON). Absent when none. */
  reassigned?: string;
  /** The key of the request it waits on (input_required), and of the request its last input answered. */
  inputKey: string | null;
  answeredKey: string | null;
  /**
   * A task with a run_at, read by read-tasks-1.lua: its score in its shard's delayed index (epoch
   * ms), null when it is in none (the due sweep will not place it). Absent otherwise.
   */
  delayedUntil?: number | null;
};

/** A task dict (TaskDict) as the ledger reads it, its status the plain value (the store's text). */
export type LedgerTaskDict = Omit<TaskDict, "status"> & { status: `${TaskStatus}` };

/**
 * created_at as the record keeps it: epoch milliseconds when that reads back as the same ISO
 * text (an integer is a few bytes in a listpack), else the text itself.
 */
export function compactTime(iso: string): string {
  // Tasks submitted together share their created_at: the last answer is asked for again.
  if (iso === lastIso) return lastCompact;
  const ms = Date.parse(iso);
  lastCompact = Number.isFinite(ms) && ms >= 0 && formatTimestamp(ms) === iso ? String(ms) : iso;
  lastIso = iso;
  return lastCompact;
}
let lastIso = "";
let lastCompact = "";

function readTime(stored: string | undefined): string {
  if (stored === undefined) return "";
  // ISO text is not a number (Number gives NaN); epoch milliseconds are digits only.
  const ms = Number(stored);
  return stored !== "" && Number.isSafeInteger(ms) && ms >= 0 ? new Date(ms).toISOString() : stored;
}

/** A record's result: its stored JSON, read only once the task completed (else null). */
export function resultOf(status: string, stored: string | undefined): JsonValue {
  return status === "completed" && stored !== undefined ? (JSON.parse(stored) as JsonValue) : null;
}

/**
 * A record as the task dict and ledger state. Fields a record may lack read as their defaults
 * (see submit-tasks-1.lua): task_id is the key's, counters 0, retry limits 2 and 200 ms.
 */
export function parseRecord(taskId: string, flat: string[]): TaskRecord | null {
  if (flat.length === 0) return null;
  const h: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) h[flat[i]!] = flat[i + 1]!;
  const orNull = (v: string | undefined) => (v === undefined || v === "" ? null : v);
  const status = h.status as LedgerTaskDict["status"];
  return {
    task: {
      task_id: taskId,
      // `type` since the record was shortened (issue 22); `task_type` in records written before.
      task_type: (h.type ?? h.task_type)!,
      payload: JSON.parse(h.payload ?? "{}") as JsonObject,
      status,
      result: resultOf(status, h.result),
      error: orNull(h.error),
      attempts: Number(h.attempts ?? 0),
      assigned_to: orNull(h.assigned_to),
      created_at: readTime(h.created_at),
      started_at: orNull(h.started_at),
      completed_at: orNull(h.completed_at),
      ...workflowKeys(h),
      ...inputKeys(h),
      ...scheduleKeysOfRecord(h),
      ...(h.progress !== undefined ? { progress: JSON.parse(h.progress) as JsonValue } : {}),
    },
    fence: Number(h.fence ?? 0),
    distributor: orNull(h.distributor),
    failures: Number(h.failures ?? 0),
    maxRetries: Number(h.max_retries ?? DEFAULT_MAX_RETRIES),
    backoffMs: Number(h.backoff_ms ?? DEFAULT_BACKOFF_MS),
    notBefore: h.not_before === undefined ? null : Number(h.not_before),
    spawnJson: h.spawn ?? null,
    spawned: h.spawned === undefined ? [] : (JSON.parse(h.spawned) as string[]),
    ...(h.canceled !== undefined ? { canceled: h.canceled } : {}),
    ...(h.reassigned !== undefined ? { reassigned: h.reassigned } : {}),
    inputKey: h.input_key ?? null,
    answeredKey: h.answered_key ?? null,
    ...(h.delayed_until !== undefined
      ? { delayedUntil: h.delayed_until === "" ? null : Number(h.delayed_until) }
      : {}),
  };
}

/** The human-input keys of a record's task dict: only those it has (SPEC: absent when unused). */
function inputKeys(h: Record<string, string>): Partial<LedgerTaskDict> {
  if (h.input_request === undefined && h.inputs === undefined && h.input_timeout_ms === undefined) return {};
  const keys: Partial<LedgerTaskDict> = {};
  if (h.input_request !== undefined && h.status === "input_required")
    keys.input_request = JSON.parse(h.input_request) as JsonValue;
  if (h.input_timeout_ms !== undefined) keys.input_timeout_ms = Number(h.input_timeout_ms);
  if (h.inputs !== undefined) keys.inputs = JSON.parse(h.inputs) as JsonValue[];
  return keys;
}

/** The workflow keys of a record's task dict: only those it has (SPEC: absent when unused). */
function workflowKeys(h: Record<string, string>): Partial<LedgerTaskDict> {
  const keys: Partial<LedgerTaskDict> = {};
  if (h.depends_on !== undefined) {
    keys.depends_on = JSON.parse(h.depends_on) as string[];
    keys.waiting_on = h.waiting_on === undefined ? [] : (JSON.parse(h.waiting_on) as string[]);
  }
  if (h.on_dependency_failure !== undefined)
    keys.on_dependency_failure = h.on_dependency_failure as "abandon" | "run";
  if (h.parent_id !== undefined) keys.parent_id = h.parent_id;
  return keys;
}

/** A task to record (TaskLedger.submit). */
export type NewTask = {
  taskId: string;
  taskType: string;
  payload: JsonObject;
  createdAt: string;
  maxRetries: number;
  backoffMs: number;
  /** Recorded waiting on these (none: placeable at once). */
  dependsOn?: string[];
  onDependencyFailure?: "abandon" | "run";
  parentId?: string;
  /** How long it may wait for input (absent: 86,400,000 ms). */
  inputTimeoutMs?: number;
  /** priority, run_at, expires_at as the dict has them (src/agents/schedule-controls/). */
  schedule?: ScheduleKeys;
  /** Epoch ms: recorded delayed (in the shard's sorted set, on no distributor) until then. */
  delayUntil?: number | null;
};

/**
 * The submit script's last value for a task (see submit-tasks-1.lua): "" for a plain task (the
 * common case: five arguments, not eleven), else its seven optional values, "" each when not given.
 */
export function submitRest(t: NewTask): string {
  // Each value once; a plain task's are all "" and build nothing.
  const maxRetries = t.maxRetries === DEFAULT_MAX_RETRIES ? "" : String(t.maxRetries);
  const backoffMs = t.backoffMs === DEFAULT_BACKOFF_MS ? "" : String(t.backoffMs);
  const dependsOn = t.dependsOn?.length ? JSON.stringify(t.dependsOn) : "";
  const policy = t.onDependencyFailure ?? "";
  const parent = t.parentId ?? "";
  const inputTimeout = t.inputTimeoutMs === undefined ? "" : String(t.inputTimeoutMs);
  const schedule = t.schedule === undefined ? "" : scheduleArg(t.schedule, t.delayUntil ?? null);
  if (`${maxRetries}${backoffMs}${dependsOn}${policy}${parent}${inputTimeout}${schedule}` === "") return "";
  return JSON.stringify([maxRetries, backoffMs, dependsOn, policy, parent, inputTimeout, schedule]);
}

/** An input_required commit's value: the request's key, a newline, the request JSON (commit-results-1.lua). */
export function inputRequestValue(o: AttemptOutcome): string {
  return `${(o.inputKey ?? "").replaceAll("\n", " ")}\n${JSON.stringify(o.inputRequest ?? null)}`;
}
