import { TriadError } from "../../core/errors.js";
import type { TaskDict } from "../protocol.js";

/** Tasks one graph request (submitTasks, POST /tasks, a spawn) may carry at most. */
export const MAX_GRAPH_TASKS = 10_000;
/** Ids one task's depends_on may list at most. */
export const MAX_DEPENDS_ON = 1_000;
/**
 * Levels one graph request may chain at most: its longest path of dependencies among its own
 * tasks (a chain of 1,000 tasks is 1,000 levels). Each level is one notice after the last.
 */
export const MAX_GRAPH_DEPTH = 1_000;

/** Whether each of `ids` names a task that exists (the ledger, for the coordinator). */
export type KnownTasks = (ids: string[]) => Promise<boolean[]>;

/**
 * Refuses a batch whose dependencies cannot all end (SPEC "Workflows"): a task that depends on
 * itself, an id neither in the batch nor known, a cycle, or a batch over the limits. The whole
 * batch is refused before anything is recorded (ERR_INVALID_TASK, HTTP 422). A batch with no
 * dependency at all costs one pass.
 */
export async function validateGraph(tasks: TaskDict[], known: KnownTasks): Promise<void> {
  if (!tasks.some((t) => t.depends_on !== undefined)) return;
  if (tasks.length > MAX_GRAPH_TASKS) {
    throw invalid(`a graph request carries at most ${MAX_GRAPH_TASKS} tasks (got ${tasks.length})`);
  }
  const inBatch = new Set(tasks.map((t) => t.task_id));
  const outside = new Set<string>();
  for (const task of tasks) checkOwnList(task, inBatch, outside);
  const ids = [...outside];
  const exists = ids.length === 0 ? [] : await known(ids);
  const unknown = ids.filter((_, i) => !exists[i]);
  if (unknown.length > 0) {
    const who = tasks.find((t) => t.depends_on?.includes(unknown[0]!))!;
    throw invalid(
      `task ${JSON.stringify(who.task_id)} depends on ${JSON.stringify(unknown[0])}, which is neither a known task nor in this batch` +
        (unknown.length > 1 ? ` (${unknown.length} such ids)` : ""),
    );
  }
  const cycle = findCycle(tasks);
  if (cycle !== null)
    throw invalid(`the dependencies form a cycle: ${cycle.map((id) => JSON.stringify(id)).join(" -> ")}`);
  checkDepth(tasks);
}

/** Refuses an acyclic batch whose longest chain of dependencies among its tasks is over MAX_GRAPH_DEPTH. */
export function checkDepth(tasks: TaskDict[]): void {
  const depth = longestChain(tasks);
  if (depth > MAX_GRAPH_DEPTH) {
    throw invalid(
      `a graph request chains at most ${MAX_GRAPH_DEPTH} levels of dependencies (got ${depth}); submit a longer chain in parts`,
    );
  }
}

/**
 * The number of tasks on the longest chain of dependencies among `tasks` (which form no cycle):
 * 1 for tasks that depend on nothing in the batch. One pass in dependency order (Kahn).
 */
export function longestChain(tasks: TaskDict[]): number {
  const ids = new Set(tasks.map((t) => t.task_id));
  const waiting = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const t of tasks) {
    const inside = (t.depends_on ?? []).filter((d) => ids.has(d));
    waiting.set(t.task_id, inside.length);
    for (const d of inside) {
      const list = dependents.get(d);
      if (list === undefined) dependents.set(d, [t.task_id]);
      else list.push(t.task_id);
    }
  }
  const level = new Map<string, number>();
  const ready = tasks.filter((t) => waiting.get(t.task_id) === 0).map((t) => t.task_id);
  for (const id of ready) level.set(id, 1);
  let deepest = ready.length > 0 ? 1 : 0;
  while (ready.length > 0) {
    const id = ready.pop()!;
    const next = level.get(id)! + 1;
    for (const d of dependents.get(id) ?? []) {
      if (next > (level.get(d) ?? 0)) level.set(d, next);
      const left = waiting.get(d)! - 1;
      waiting.set(d, left);
      if (left === 0) {
        ready.push(d);
        if (level.get(d)! > deepest) deepest = level.get(d)!;
      }
    }
  }
  return deepest;
}

/** The checks one task's depends_on needs alone; collects the ids it names outside the batch. */
export function checkOwnList(task: TaskDict, inBatch: Set<string>, outside: Set<string>): void {
  const deps = task.depends_on;
  if (deps === undefined) return;
  const name = JSON.stringify(task.task_id);
  if (deps.length > MAX_DEPENDS_ON) {
    throw invalid(`task ${name}: depends_on lists at most ${MAX_DEPENDS_ON} ids (got ${deps.length})`);
  }
  const seen = new Set<string>();
  for (const dep of deps) {
    if (dep === task.task_id) throw invalid(`task ${name} depends on itself`);
    if (seen.has(dep)) throw invalid(`task ${name}: depends_on lists ${JSON.stringify(dep)} twice`);
    seen.add(dep);
    if (!inBatch.has(dep)) outside.add(dep);
  }
}

/** A cycle among the batch's tasks (ids in order, the first repeated at the end), or null. */
export function findCycle(tasks: TaskDict[]): string[] | null {
  const deps = new Map(tasks.map((t) => [t.task_id, t.depends_on ?? []]));
  const state = new Map<string, 1 | 2>(); // 1 on the current path, 2 done
  for (const start of deps.keys()) {
    if (state.has(start)) continue;
    // Iterative depth-first walk: a chain of 10,000 would overflow a recursive one.
    const path: string[] = [start];
    const next: number[] = [0];
    state.set(start, 1);
    while (path.length > 0) {
      const id = path[path.length - 1]!;
      const list = deps.get(id)!;
      const k = next[next.length - 1]!;
      if (k === list.length) {
        state.set(id, 2);
        path.pop();
        next.pop();
        continue;
      }
      next[next.length - 1] = k + 1;
      const dep = list[k]!;
      if (!deps.has(dep)) continue; // outside the batch: it exists already, and cannot wait on this batch
      const s = state.get(dep);
      if (s === 1) return [...path.slice(path.indexOf(dep)), dep];
      if (s === undefined) {
        state.set(dep, 1);
        path.push(dep);
        next.push(0);
      }
    }
  }
  return null;
}

function invalid(message: string): TriadError {
  return new TriadError("ERR_INVALID_TASK", message, { status: 422 });
}
