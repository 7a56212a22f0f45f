import type { CoordinatorAgent } from "../agents/index.js";
import type { TaskDict } from "../agents/protocol.js";
import { MAX_LIST_LIMIT } from "./http-schemas.js";

/** How long a peer coordinator has to answer for its window before the list goes without it. */
export const PEER_LIST_TIMEOUT_MS = 1000;
/** The query flag that asks a coordinator for its own window only (no fan-out again). */
export const LOCAL_SCOPE = "local";

export type FinishedTasks = {
  /** Finished tasks, newest end first, each once. */
  tasks: TaskDict[];
  /** Live coordinators whose window could not be read (down, slow, no REST API): the list lacks theirs. */
  unreached: string[];
};

export type FinishedOptions = {
  /** Only tasks of this terminal status. */
  status?: string | undefined;
  /** Most tasks in the answer (Infinity: this window whole, and each peer's up to MAX_LIST_LIMIT). */
  limit: number;
  /** The bearer token every coordinator of the cluster wants (TRIAD_API_TOKEN). */
  apiToken?: string | undefined;
  timeoutMs?: number;
};

/** When a finished task ended (or last changed), for newest-first order. */
export function endedAt(task: TaskDict): string {
  return task.completed_at ?? task.started_at ?? task.created_at;
}

/** This coordinator's own recent-task window: finished tasks that ended through it, newest end first. */
export function localFinished(
  coordinator: CoordinatorAgent,
  status: string | undefined,
  limit: number,
): TaskDict[] {
  const all = coordinator.core.recentTasks();
  const mine = status === undefined ? all : all.filter((t) => t.status === status);
  // Ordered by end time (as the merge is), not by when the end was heard: then a window's first
  // `limit` are the ones the merged list wants, whatever the limit.
  return mine.sort(newestEndFirst).slice(0, limit);
}

function newestEndFirst(a: TaskDict, b: TaskDict): number {
  const x = endedAt(a);
  const y = endedAt(b);
  return x === y ? b.task_id.localeCompare(a.task_id) : y.localeCompare(x);
}

/**
 * The finished tasks of the whole cluster (SPEC "Several coordinators"): this coordinator's
 * window and the windows of the other live coordinators (as their views say), each asked
 * `GET /tasks?scope=local` with the same token and a short timeout. A peer that does not answer
 * is left out and named in `unreached`; nothing fails for it. Merged newest end first, one row
 * per task id, the limit applied after the merge. Nothing is read or written per task here.
 */
export async function clusterFinished(
  coordinator: CoordinatorAgent,
  o: FinishedOptions,
): Promise<FinishedTasks> {
  const peers = coordinator.cluster.peers.others();
  const unreached: string[] = [];
  const lists = await Promise.all(
    peers.map(async (peer) => {
      const list = peer.api_url ? await askPeer(peer.api_url, o) : null;
      if (list === null) unreached.push(peer.id);
      return list ?? [];
    }),
  );
  const byId = new Map<string, TaskDict>();
  for (const t of localFinished(coordinator, o.status, o.limit)) byId.set(t.task_id, t);
  for (const list of lists) for (const t of list) if (!byId.has(t.task_id)) byId.set(t.task_id, t);
  const tasks = [...byId.values()].sort(newestEndFirst);
  return { tasks: tasks.slice(0, o.limit), unreached: unreached.sort() };
}

/** One peer's window, or null when it does not answer in time or answers anything but a list. */
async function askPeer(apiUrl: string, o: FinishedOptions): Promise<TaskDict[] | null> {
  const url = new URL("/tasks", apiUrl);
  url.searchParams.set("scope", LOCAL_SCOPE);
  url.searchParams.set("limit", String(Math.min(o.limit, MAX_LIST_LIMIT)));
  if (o.status !== undefined) url.searchParams.set("status", o.status);
  try {
    const res = await fetch(url, {
      headers: o.apiToken ? { authorization: `Bearer ${o.apiToken}` } : {},
      signal: AbortSignal.timeout(o.timeoutMs ?? PEER_LIST_TIMEOUT_MS),
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return null;
    }
    const body = (await res.json()) as { tasks?: unknown };
    if (!Array.isArray(body.tasks)) return null;
    return body.tasks.filter(
      (t): t is TaskDict =>
        t !== null && typeof t === "object" && typeof (t as TaskDict).task_id === "string",
    );
  } catch {
    return null;
  }
}
