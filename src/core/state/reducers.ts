import type { JsonObject } from "../json.js";
import { Task } from "./task.js";

/**
 * The reducers of the agent state channels. Each comes twice from one body: an in-place fold
 * (`...Into`), which LocalAgentState and SharedAgentState use on their own values so that an
 * update costs O(update) and not O(state), and a pure form for the LangGraph annotations,
 * which must not mutate channel values. Same body, so the graph and the classes cannot drift.
 */

/** History keeps the newest entries only, so an agent that runs for months stays flat in memory. */
export const DEFAULT_HISTORY_LIMIT = 1000;

export type HistoryEntry = JsonObject;
/** Drops a task from a task table (finished tasks must leave memory; see ARCHITECTURE.md, "Bounded"). */
export type TaskRemoval = { remove: string };
export type TaskChange = Task | TaskRemoval;
export type WorkerChange = string | { remove: string };

function asList<T>(update: T | readonly T[]): readonly T[] {
  return Array.isArray(update) ? (update as readonly T[]) : [update as T];
}

export function appendHistoryInto(
  target: HistoryEntry[],
  update: HistoryEntry | readonly HistoryEntry[],
  limit: number,
): HistoryEntry[] {
  for (const entry of asList(update)) target.push(entry);
  if (target.length > limit) target.splice(0, target.length - limit);
  return target;
}

/** Tasks merge by id: a Task replaces the one with its id (or joins at the end), a removal drops it. */
export function mergeTasksInto(
  target: Map<string, Task>,
  update: TaskChange | readonly TaskChange[],
): Map<string, Task> {
  for (const change of asList(update)) {
    if (change instanceof Task) target.set(change.taskId, change);
    else target.delete(change.remove);
  }
  return target;
}

/** Workers form a set kept in assignment order. */
export function mergeWorkersInto(target: string[], update: WorkerChange | readonly WorkerChange[]): string[] {
  for (const change of asList(update)) {
    if (typeof change === "string") {
      if (!target.includes(change)) target.push(change);
    } else {
      const at = target.indexOf(change.remove);
      if (at >= 0) target.splice(at, 1);
    }
  }
  return target;
}

/** Variables and metadata merge key by key; the update wins. */
export function mergeObjects(current: JsonObject, update: JsonObject): JsonObject {
  return { ...current, ...update };
}

export const appendHistory =
  (limit = DEFAULT_HISTORY_LIMIT) =>
  (current: HistoryEntry[], update: HistoryEntry | readonly HistoryEntry[]): HistoryEntry[] =>
    appendHistoryInto(current.slice(), update, limit);

export const mergeTasks = (current: Map<string, Task>, update: TaskChange | readonly TaskChange[]) =>
  mergeTasksInto(new Map(current), update);

export const mergeWorkers = (current: string[], update: WorkerChange | readonly WorkerChange[]) =>
  mergeWorkersInto(current.slice(), update);

/** Accumulates changes without applying them: the message graph's delta channels (see message-graph.ts). */
export const concatChanges = <T>(current: T[], update: T | readonly T[]): T[] =>
  current.concat(asList(update));

/**
 * LangGraph's Overwrite (`{ __overwrite__: value }`, or `new Overwrite(value)`) replaces a
 * channel's value instead of reducing into it; the state classes honour it the same way.
 */
export function overwriteOf<V>(update: unknown): { value: V } | undefined {
  if (typeof update !== "object" || update === null) return undefined;
  if ("__overwrite__" in update) return { value: (update as { __overwrite__: V }).__overwrite__ };
  const rec = update as { type?: unknown; value?: V };
  if (rec.type === "__overwrite__" && "value" in rec) return { value: rec.value as V };
  return undefined;
}
