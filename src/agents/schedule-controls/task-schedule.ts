import type { MemoryKeyspace } from "../../core/store/index.js";

/**
 * A task's scheduling keys (SPEC "Scheduling controls"): `priority` 0-9 (higher first; 0 is
 * absent), `run_at` (not started before) and `expires_at` (not started by then: abandoned
 * "expired"). Absent when unused, so a plain task's dict, record and script arguments stay as
 * they were: it pays one empty argument at submit and nothing else.
 */
export type ScheduleKeys = { priority?: number; run_at?: string; expires_at?: string };

/** The highest priority; the dispatch queue keeps one lane per level. */
export const MAX_PRIORITY = 9;

/** A task's priority, 0 when it has none. */
export function priorityOf(task: { priority?: number }): number {
  return task.priority ?? 0;
}

/** Epoch ms of a task's run_at (0 without one). */
export function runAtMs(task: { run_at?: string }): number {
  return task.run_at === undefined ? 0 : Date.parse(task.run_at) || 0;
}

/** Epoch ms of a run_at still ahead of `now`, else null (the task may start at once). */
export function delayUntil(task: { run_at?: string }, now = Date.now()): number | null {
  if (task.run_at === undefined) return null;
  const at = Date.parse(task.run_at);
  return at > now ? at : null;
}

/**
 * The submit script's schedule argument (see submit-tasks-1.lua): "" for a plain task, else a
 * JSON object of strings. Whether the task waits for its run_at is decided here, once, and the
 * script follows: the coordinator then holds no task that the store placed, and none the other way.
 */
export function scheduleArg(task: ScheduleKeys, delayedUntil: number | null): string {
  if (task.priority === undefined && task.run_at === undefined && task.expires_at === undefined) return "";
  const arg: Record<string, string> = {};
  if (task.priority !== undefined && task.priority > 0) arg.priority = String(task.priority);
  if (task.run_at !== undefined) arg.run_at = task.run_at;
  if (task.expires_at !== undefined) {
    arg.expires_at = task.expires_at;
    arg.expires_ms = String(Date.parse(task.expires_at));
  }
  if (delayedUntil !== null) arg.delay_until = String(delayedUntil);
  const json = JSON.stringify(arg);
  return json === "{}" ? "" : json; // priority 0 alone: a plain task
}

/** The submit script's schedule step on the embedded engine (its Lua twin is inline there). */
export function recordSchedule(db: MemoryKeyspace, prefix: string, id: string, arg: string): boolean {
  if (arg === "") return false;
  const s = JSON.parse(arg) as Record<string, string>;
  const rec = `${prefix}task:${id}`;
  for (const key of ["priority", "run_at", "expires_at"])
    if (s[key] !== undefined) db.hset(rec, { [key]: s[key]! });
  if (s.expires_ms !== undefined) db.zadd(`${prefix}expiring`, Number(s.expires_ms), id);
  if (s.delay_until === undefined) return false;
  db.zadd(`${prefix}delayed`, Number(s.delay_until), id);
  return true;
}

/** The scheduling keys of a record's hash (strings), as the task dict carries them. */
export function scheduleKeysOfRecord(h: Record<string, string>): ScheduleKeys {
  if (h.priority === undefined && h.run_at === undefined && h.expires_at === undefined) return {};
  const keys: ScheduleKeys = {};
  if (h.priority !== undefined && h.priority !== "0") keys.priority = Number(h.priority);
  if (h.run_at !== undefined) keys.run_at = h.run_at;
  if (h.expires_at !== undefined) keys.expires_at = h.expires_at;
  return keys;
}

/** Whether a task dict has any scheduling key. */
export function hasScheduleKeys(task: ScheduleKeys): boolean {
  return task.priority !== undefined || task.run_at !== undefined || task.expires_at !== undefined;
}

/** The scheduling keys a task dict has (to carry them into a dict built from it). */
export function scheduleKeysOf(task: ScheduleKeys): ScheduleKeys {
  if (!hasScheduleKeys(task)) return {};
  const keys: ScheduleKeys = {};
  if (task.priority !== undefined) keys.priority = task.priority;
  if (task.run_at !== undefined) keys.run_at = task.run_at;
  if (task.expires_at !== undefined) keys.expires_at = task.expires_at;
  return keys;
}

/** True when the task has not started and its expires_at has passed: it must not start now. */
export function hasExpired(task: { expires_at?: string; attempts: number }, now = Date.now()): boolean {
  return task.expires_at !== undefined && task.attempts === 0 && Date.parse(task.expires_at) <= now;
}

/**
 * Records read back from the store (a set: no order) in the order they were created, so that a
 * restarted agent keeps first in first out within a priority. Nulls go last.
 */
export function inSubmissionOrder<R extends { task: { created_at: string } } | null>(records: R[]): R[] {
  const at = (r: R) => (r === null ? Number.POSITIVE_INFINITY : Date.parse(r.task.created_at) || 0);
  return records
    .map((r) => [at(r), r] as const)
    .sort((a, b) => a[0] - b[0])
    .map(([, r]) => r);
}

/**
 * Adds a job to a worker's backlog (the attempts it holds beyond its concurrency) behind every
 * job of its priority or higher: a prefetched low-priority attempt does not hold up an urgent one.
 */
export function queueByPriority<J extends { task: { priority?: number } }>(backlog: J[], job: J): void {
  const p = priorityOf(job.task);
  if (p === 0 || backlog.length === 0) {
    backlog.push(job);
    return;
  }
  const at = backlog.findIndex((j) => priorityOf(j.task) < p);
  if (at === -1) backlog.push(job);
  else backlog.splice(at, 0, job);
}
