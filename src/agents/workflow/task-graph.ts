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
 * task. Tasks whose records have expired are left out, with their edges. An id a task's spawn
 * named is its child only if that task's record says so (parent_id): a spawn that named an
 * existing task recorded nothing, and that task joins the graph only if something else links it.
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
  // Ids reached through a spawned list alone, with the task whose list it was: kept only if
  // their record names that task as parent (checked when read, the level after).
  const claimed = new Map<string, string>();
  let truncated = false;
  let frontier = [taskId];
  while (frontier.length > 0) {
    const [records, dependents] = await Promise.all([
      Promise.all(frontier.map((id) => ledger.get(id))),
      Promise.all(frontier.map((id) => ledger.dependentsOf(id))),
    ]);
    const next: string[] = [];
    const reach = (id: string, spawner?: string): boolean => {
      if (seen.has(id)) {
        if (spawner === undefined) claimed.delete(id); // linked otherwise too: a node whatever its parent
        return true;
      }
      if (seen.size >= limit) {
        truncated = true;
        return false;
      }
      seen.add(id);
      next.push(id);
      if (spawner !== undefined) claimed.set(id, spawner);
      return true;
    };
    records.forEach((record, i) => {
      const id = frontier[i]!;
      const spawner = claimed.get(id);
      claimed.delete(id);
      if (record === null) return;
      const task = record.task;
      if (spawner !== undefined && task.parent_id !== spawner) {
        // Not its child: another link may still reach it.
        seen.delete(id);
        return;
      }
      nodes.set(task.task_id, task);
      const linked = [
        ...(task.depends_on ?? []),
        ...(task.parent_id === undefined ? [] : [task.parent_id]),
        ...dependents[i]!,
      ];
      for (const other of linked) if (!reach(other)) return;
      for (const child of spawnedIds(record)) if (!reach(child, task.task_id)) return;
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
