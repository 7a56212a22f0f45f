import { ApiClient } from "../api-client.js";
import { type ParsedOptions, taskIdOption, UsageError } from "../options.js";
import { cannotServe } from "../status-exit.js";
import { followTask } from "../task-follow.js";

type Agent = {
  id: string;
  tier: string;
  status: string;
  /** With status dead: it stopped gracefully, not a crash (absent from an older coordinator's answer). */
  stopped?: boolean;
  last_heartbeat: string | null;
  parent: string | null;
  /** What it holds: running + queued. */
  load?: number;
  /** Of load, what handlers run now (absent from an older coordinator's answer). */
  running?: number;
  /** Of load, the rest: waiting for a worker slot (a coordinator's: for a distributor). */
  queued?: number;
  capacity?: number;
  done?: number;
  /** A coordinator's task shards. */
  shards?: number[];
};

export async function status(options: ParsedOptions): Promise<number> {
  if (options.follow && options.task === undefined)
    throw new UsageError("--follow follows one task: give --task ID with it");
  if (options.task !== undefined) return taskStatus(options);
  const api = new ApiClient(String(options.coordinator));
  const body = await api.request<{
    agents: Agent[];
    tasks: Record<string, number>;
    cluster_tasks?: Record<string, number>;
  }>("GET", "/agents");
  if (options.json) {
    process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
    return served(body.agents);
  }
  const now = Date.now();
  const age = (iso: string | null) =>
    iso === null ? "-" : `${((now - Date.parse(iso)) / 1000).toFixed(1)} s ago`;
  const rows = body.agents.map((a) => [
    `${a.tier === "worker" ? "    " : a.tier === "distributor" ? "  " : ""}${a.id}`,
    a.tier,
    stoppedGracefully(a) ? "stopped" : a.status,
    age(a.last_heartbeat),
    ...runningAndQueued(a),
    `${a.done ?? 0}`,
    a.shards !== undefined ? ranges(a.shards) : "",
  ]);
  const header = ["AGENT", "TIER", "STATUS", "HEARTBEAT", "RUNNING", "QUEUED", "DONE", "SHARDS"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  process.stdout.write(`${line(header)}\n${rows.map(line).join("\n")}\n\n`);
  // The whole cluster's counts, else (an older coordinator) the one asked.
  const c = body.cluster_tasks;
  const t = body.tasks;
  const [submitted, completed, failed, abandoned, waiting, input] =
    c === undefined
      ? [t.submitted, t.completed, t.failed, t.abandoned, t.unplaced, t.input_required]
      : [c.submitted, c.completed, c.failed, c.abandoned, c.waiting, c.input_required];
  // The cluster's counts are kept in the store (a coordinator gone leaves its counts in); an older
  // coordinator's own count since it started. Then what waits now (the tasks are in the store).
  const since = c !== undefined ? "the first coordinator on this store" : "this coordinator";
  process.stdout.write(
    `tasks since ${since} started: ${submitted ?? 0} submitted, ${completed ?? 0} completed, ${failed ?? 0} failed, ${abandoned ?? 0} abandoned; now ${waiting ?? 0} waiting for a distributor, ${input ?? 0} waiting for input\n`,
  );
  return served(body.agents);
}

/**
 * The exit code once the status was read: 0 while the cluster can run tasks, whatever crashed
 * beside (listed dead; its tasks are moved), else 1, saying why on stderr.
 */
function served(agents: Agent[]): number {
  const why = cannotServe(agents);
  if (why === null) return 0;
  process.stderr.write(`triad status: the cluster cannot run tasks now: ${why}\n`);
  return 1;
}

/** Dead after saying it stops: listed (for the dead-agent retention) as stopped, not as a crash. */
function stoppedGracefully(a: Agent): boolean {
  return a.status === "dead" && a.stopped === true;
}

/** `--task ID`: the task as it stands; with `--follow`, each change until it ends (GET /tasks/:id/events). */
async function taskStatus(options: ParsedOptions): Promise<number> {
  const taskId = taskIdOption(options, "task");
  const urls = String(options.coordinator)
    .split(",")
    .map((u) => u.trim())
    .filter((u) => u.length > 0);
  if (options.follow)
    return followTask(urls, taskId, { json: Boolean(options.json), token: process.env.TRIAD_API_TOKEN });
  const api = new ApiClient(String(options.coordinator));
  const task = await api.request<Record<string, unknown>>("GET", `/tasks/${encodeURIComponent(taskId)}`);
  process.stdout.write(`${JSON.stringify(task, null, options.json ? 2 : undefined)}\n`);
  return task.status === "failed" || task.status === "abandoned" ? 1 : 0;
}

/**
 * RUNNING (of its capacity) and QUEUED: a worker's running tasks never pass its concurrency, and
 * what it holds beyond them waits. A coordinator runs nothing: it queues what waits for a
 * distributor. An older coordinator's answer, with load alone: what of it fits the capacity runs.
 * A dead agent (crashed or stopped) runs nothing and has no slots: 0/- (its last capacity, 0/4,
 * read as a worker with 4 free slots).
 */
function runningAndQueued(a: Agent): [string, string] {
  const load = a.load ?? 0;
  // Unknown (its distributor crashed): nobody reports what it runs now.
  if (a.status === "dead" || a.status === "unknown") return ["0/-", `${a.queued ?? load}`];
  if (a.capacity === undefined) return ["-", `${a.queued ?? load}`];
  const running = a.running ?? Math.min(load, a.capacity);
  return [`${running}/${a.capacity}`, `${a.queued ?? Math.max(0, load - running)}`];
}

/** Shard numbers as runs: [0, 1, 2, 5, 7, 8] -> "0-2,5,7-8"; none -> "none". */
export function ranges(numbers: number[]): string {
  const sorted = [...numbers].sort((a, b) => a - b);
  const runs: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    runs.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return runs.length === 0 ? "none" : runs.join(",");
}
