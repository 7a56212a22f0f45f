import type { LedgerTaskDict, TaskLedger } from "../ledger/task-ledger.js";
import { spawnedIds } from "./workflow-keeper.js";

/** Tasks GET /tasks/:id/graph walks at most. */
export const MAX_GRAPH_NODES = 10_000;

export type TaskGraph = {
  nodes: LedgerTaskDict[];
  edges: Array<[from: string, to: string, kind: "depends" | "spawned"]>;
  truncated: boolean;
};

/**
 * The workflow a task belongs to: every task reachable from it through dependencies (both
 * ways) and spawning (both ways), read level by level from the ledger. Null for an unknown
 * task. Tasks whose records have expired are left out, with their edges.
 */
export async function taskGraph(
  ledger: TaskLedger,
  taskId: string,
  limit = MAX_GRAPH_NODES,
): Promise<TaskGraph | null> {
  const first = await ledger.get(taskId);
  if (first === null) return null;
  const nodes = new Map<string, LedgerTaskDict>();
  const seen = new Set([taskId]);
  let truncated = false;
  let frontier = [taskId];
  while (frontier.length > 0) {
    const [records, dependents] = await Promise.all([
      Promise.all(frontier.map((id) => ledger.get(id))),
      Promise.all(frontier.map((id) => ledger.dependentsOf(id))),
    ]);
    const next: string[] = [];
    records.forEach((record, i) => {
      if (record === null) return;
      const task = record.task;
      nodes.set(task.task_id, task);
      const around = [
        ...(task.depends_on ?? []),
        ...(task.parent_id === undefined ? [] : [task.parent_id]),
        ...dependents[i]!,
        ...spawnedIds(record),
      ];
      for (const id of around) {
        if (seen.has(id)) continue;
        if (seen.size >= limit) {
          truncated = true;
          break;
        }
        seen.add(id);
        next.push(id);
      }
    });
    frontier = next;
  }
  const edges: TaskGraph["edges"] = [];
  for (const task of nodes.values()) {
    for (const dep of task.depends_on ?? []) if (nodes.has(dep)) edges.push([dep, task.task_id, "depends"]);
    if (task.parent_id !== undefined && nodes.has(task.parent_id))
      edges.push([task.parent_id, task.task_id, "spawned"]);
  }
  return { nodes: [...nodes.values()], edges, truncated };
}
