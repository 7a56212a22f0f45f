import { isPlainObject } from "../core/json.js";
import { MAX_TASK_ID_LENGTH } from "../core/state/task-id.js";
import { MAX_TASK_TYPE_LENGTH } from "../core/state/task-type.js";
import { isWellFormed } from "../core/state/well-formed.js";
import {
  type AgentPayload,
  agentPayload,
  attemptOutcome,
  dispatchedTask,
  isJson,
  isJsonObject,
  resultAck,
  taskDictSchema,
} from "./protocol.js";

// How a payload from the wire is checked against the schemas of protocol.ts: the hot kinds by hand first.

/** Parses a payload from the wire; null (and the reason) when it is not one of ours. */
export function parseAgentPayload(
  payload: unknown,
): { ok: true; value: AgentPayload } | { ok: false; error: string } {
  if (isHotPayload(payload)) return { ok: true, value: payload };
  const parsed = agentPayload.safeParse(payload);
  if (parsed.success) return { ok: true, value: parsed.data };
  const issue = parsed.error.issues[0]!;
  return { ok: false, error: `${issue.path.join(".") || "payload"}: ${issue.message}` };
}

// The kinds that carry tasks, once per batch per hop, are checked by hand first. A payload that
// passes is exactly what the schema would return (every field valid, no unknown key to strip,
// nothing to default or drop), so it is used as it is; anything else goes through the schema,
// which says what is wrong. Same verdicts, a fraction of the time per task.

function isHotPayload(v: unknown): v is AgentPayload {
  if (!isPlainObject(v)) return false;
  switch (v.kind) {
    case "assign_tasks":
      // From a coordinator in another process, with where it listens (see assign_tasks above).
      return (
        onlyKeys(v, ASSIGN_KEYS) &&
        isTracedTaskList(v) &&
        (v.url === undefined || (typeof v.url === "string" && v.url.length <= 2000))
      );
    case "task_terminal":
      return (
        onlyKeys(v, TERMINAL_KEYS) &&
        isTracedTaskList(v) &&
        (v.via_groups === undefined || everyItem(v.via_groups, isViaGroup)) &&
        (v.spawns === undefined || (isIdList(v.spawns) && v.spawns.length <= 10_000))
      );
    case "execute_tasks":
      return (
        onlyKeys(v, EXECUTE_KEYS) &&
        everyItem(v.tasks, isDispatchedTask) &&
        (v.acks === undefined || everyItem(v.acks, isAck))
      );
    case "task_results":
      return onlyKeys(v, RESULTS_KEYS) && everyItem(v.results, isOutcome);
    case "results_ack":
      return onlyKeys(v, ACKS_KEYS) && everyItem(v.acks, isAck);
    default:
      return false;
  }
}

const ASSIGN_KEYS = new Set(["kind", "tasks", "traces", "url"]);
const TERMINAL_KEYS = new Set(["kind", "spawns", "tasks", "traces", "via_groups"]);
const VIA_GROUP_KEYS = new Set(["via", "tasks"]);
const EXECUTE_KEYS = new Set(["kind", "tasks", "acks"]);
const RESULTS_KEYS = new Set(["kind", "results"]);
const ACKS_KEYS = new Set(["kind", "acks"]);
const TASK_KEYS = new Set(Object.keys(taskDictSchema.shape));
const DISPATCHED_KEYS = new Set(Object.keys(dispatchedTask.shape));
const OUTCOME_KEYS = new Set(Object.keys(attemptOutcome.shape));
const ACK_KEYS = new Set(Object.keys(resultAck.shape));
const TRACE_KEYS = new Set(["traceparent", "via"]);
const TASK_STATUSES = new Set<unknown>(taskDictSchema.shape.status.options);

function isTaskDict(t: unknown): boolean {
  if (!isPlainObject(t) || !onlyKeys(t, TASK_KEYS)) return false;
  return (
    isId(t.task_id) &&
    isTaskType(t.task_type) &&
    isJsonObject(t.payload) &&
    TASK_STATUSES.has(t.status) &&
    isJson(t.result) &&
    isStringOrNull(t.error) &&
    isCount(t.attempts) &&
    isStringOrNull(t.assigned_to) &&
    typeof t.created_at === "string" &&
    isStringOrNull(t.started_at) &&
    isStringOrNull(t.completed_at) &&
    (t.depends_on === undefined || isIdList(t.depends_on)) &&
    (t.waiting_on === undefined || isIdList(t.waiting_on)) &&
    (t.on_dependency_failure === undefined || isDependencyPolicy(t.on_dependency_failure)) &&
    (t.parent_id === undefined || isId(t.parent_id)) &&
    (t.priority === undefined || isPriority(t.priority)) &&
    (t.run_at === undefined || isShortString(t.run_at)) &&
    (t.expires_at === undefined || isShortString(t.expires_at)) &&
    t.input_request === undefined &&
    t.inputs === undefined &&
    t.input_timeout_ms === undefined &&
    (t.progress === undefined || isJson(t.progress))
  );
}

function isPriority(v: unknown): boolean {
  return Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 9;
}

function isShortString(v: unknown): boolean {
  return typeof v === "string" && v.length <= 64;
}

const DEPENDENCY_OUTCOME_KEYS = new Set(["status", "result", "error"]);

/** A dispatched task's `dependencies`: each id's { status, result, error } and nothing else. */
function isOutcomeMap(v: unknown): boolean {
  if (!isPlainObject(v)) return false;
  for (const id in v) {
    const o = v[id];
    if (
      !isId(id) ||
      !isPlainObject(o) ||
      !onlyKeys(o, DEPENDENCY_OUTCOME_KEYS) ||
      !TASK_STATUSES.has(o.status) ||
      !isJson(o.result) ||
      !isStringOrNull(o.error)
    )
      return false;
  }
  return true;
}

/** A `depends_on` (or `waiting_on`): an array of task ids. */
export function isIdList(v: unknown): v is string[] {
  return Array.isArray(v) && v.every(isId);
}

/** An `on_dependency_failure`: "abandon" or "run". */
export function isDependencyPolicy(v: unknown): v is "abandon" | "run" {
  return v === "abandon" || v === "run";
}

function isDispatchedTask(d: unknown): boolean {
  return (
    isPlainObject(d) &&
    onlyKeys(d, DISPATCHED_KEYS) &&
    isTaskDict(d.task) &&
    Number.isSafeInteger(d.fence) &&
    (d.fence as number) > 0 &&
    Number.isSafeInteger(d.timeout_ms) &&
    (d.timeout_ms as number) > 0 &&
    (d.checkpoint === undefined || isJson(d.checkpoint)) &&
    (d.trace === undefined || isTrace(d.trace)) &&
    (d.dependencies === undefined || isOutcomeMap(d.dependencies)) &&
    (d.dependencies_left_out === undefined ||
      (isIdList(d.dependencies_left_out) && d.dependencies_left_out.length <= 10_000)) &&
    d.resume_key === undefined
  );
}

function isOutcome(o: unknown): boolean {
  return (
    isPlainObject(o) &&
    onlyKeys(o, OUTCOME_KEYS) &&
    isId(o.task_id) &&
    Number.isSafeInteger(o.fence) &&
    (o.status === "completed" || o.status === "failed") &&
    (o.result === undefined || isJson(o.result)) &&
    (o.error === undefined || typeof o.error === "string") &&
    (o.retryable === undefined || o.retryable === false) &&
    (o.started_at === undefined || typeof o.started_at === "string") &&
    (o.duration_ms === undefined ||
      (typeof o.duration_ms === "number" && Number.isFinite(o.duration_ms) && o.duration_ms >= 0)) &&
    (o.trace === undefined || isTrace(o.trace)) &&
    o.spawn === undefined &&
    (o.progress === undefined || isJson(o.progress))
  );
}

function isAck(a: unknown): boolean {
  return isPlainObject(a) && onlyKeys(a, ACK_KEYS) && isId(a.task_id) && Number.isSafeInteger(a.fence);
}

/** A trace without retries (a trace with them is rare, and left to the schema). */
function isTrace(t: unknown): boolean {
  if (!isPlainObject(t) || !onlyKeys(t, TRACE_KEYS)) return false;
  if (t.traceparent !== undefined && !(typeof t.traceparent === "string" && t.traceparent.length <= 256))
    return false;
  return t.via === undefined || isVia(t.via);
}

function isVia(via: unknown): boolean {
  if (!Array.isArray(via) || via.length > 4) return false;
  for (const v of via) if (!(typeof v === "string" && v.length <= 200)) return false;
  return true;
}

function isViaGroup(g: unknown): boolean {
  return isPlainObject(g) && onlyKeys(g, VIA_GROUP_KEYS) && isVia(g.via) && isIdList(g.tasks);
}

/** The `tasks` and `traces` members that assign_tasks and task_terminal share. */
function isTracedTaskList(v: Record<string, unknown>): boolean {
  return everyItem(v.tasks, isTaskDict) && (v.traces === undefined || isTraceMap(v.traces));
}

function isTraceMap(m: unknown): boolean {
  if (!isPlainObject(m)) return false;
  for (const key in m) if (!(isId(key) && isTrace(m[key]))) return false;
  return true;
}

function onlyKeys(o: Record<string, unknown>, allowed: Set<string>): boolean {
  for (const key in o) if (!allowed.has(key)) return false;
  return true;
}

function everyItem(list: unknown, check: (item: unknown) => boolean): boolean {
  if (!Array.isArray(list)) return false;
  for (const item of list) if (!check(item)) return false;
  return true;
}

function isId(v: unknown): boolean {
  return typeof v === "string" && v.length >= 1 && v.length <= MAX_TASK_ID_LENGTH && isWellFormed(v);
}

function isTaskType(v: unknown): boolean {
  return typeof v === "string" && v.length >= 1 && v.length <= MAX_TASK_TYPE_LENGTH && isWellFormed(v);
}

function isStringOrNull(v: unknown): boolean {
  return v === null || typeof v === "string";
}

function isCount(v: unknown): boolean {
  return Number.isSafeInteger(v) && (v as number) >= 0;
}
