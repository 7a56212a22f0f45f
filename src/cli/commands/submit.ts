import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TaskDict } from "../../agents/protocol.js";
import { findCycle } from "../../agents/workflow/graph-validation.js";
import { ApiClient } from "../api-client.js";
import { type ParsedOptions, positiveInt, UsageError } from "../options.js";

type NewTask = { task_type: string; payload?: unknown; task_id?: string; depends_on?: string[] };

/** The scheduling flags as task keys (the coordinator checks the values: a bad one is a 422 naming it). */
function scheduleFlags(options: ParsedOptions): Record<string, unknown> {
  const keys: Record<string, unknown> = {};
  if (options.priority !== undefined) keys.priority = options.priority;
  if (options.delay !== undefined) keys.delay_ms = delayMs(String(options.delay));
  if (options["run-at"] !== undefined) keys.run_at = String(options["run-at"]);
  if (options["expires-at"] !== undefined) keys.expires_at = String(options["expires-at"]);
  return keys;
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function delayMs(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null)
    throw new UsageError(`--delay must be milliseconds or a number with ms, s, m or h (got ${text})`);
  return Math.round(Number(m[1]) * UNIT_MS[m[2] ?? "ms"]!);
}

function readTasks(options: ParsedOptions): NewTask[] {
  if (options.file !== undefined) {
    // Each task of the file names its own type: a --type beside it would be silently ignored.
    if (options.type !== undefined)
      throw new UsageError(
        "--type and --file cannot be given together: a --file task names its own task_type",
      );
    const file = String(options.file);
    const text = file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
    const trimmed = text.trim();
    if (trimmed.startsWith("[")) return JSON.parse(trimmed) as NewTask[];
    return trimmed
      .split("\n")
      .filter((l) => l.trim())
      .map((l, i) => {
        try {
          return JSON.parse(l) as NewTask;
        } catch (err) {
          throw new UsageError(`${file} line ${i + 1} is not JSON: ${(err as Error).message}`);
        }
      });
  }
  if (options.type === undefined) throw new UsageError("give --type TYPE (with --payload), or --file FILE");
  let payload: unknown;
  try {
    payload = JSON.parse(String(options.payload));
  } catch (err) {
    throw new UsageError(`--payload is not JSON: ${(err as Error).message}`);
  }
  return Array.from({ length: positiveInt(options, "count") }, () => ({
    task_type: String(options.type),
    payload,
  }));
}

/** Every task with its id, named here when the user gave none: a POST sent again records nothing twice. */
function withIds(tasks: NewTask[]): NewTask[] {
  return tasks.map((t) =>
    typeof t === "object" && t !== null && t.task_id === undefined ? { ...t, task_id: randomUUID() } : t,
  );
}

/**
 * A graph file (tasks with depends_on) goes in requests of 1,000 with every task after the
 * tasks it depends on, so each request's outside dependencies are already recorded. A cycle
 * is refused here, before anything is sent.
 */
function inDependencyOrder(tasks: NewTask[]): NewTask[] {
  if (!tasks.some((t) => typeof t === "object" && t !== null && Array.isArray(t.depends_on))) return tasks;
  const cycle = findCycle(tasks as unknown as TaskDict[]);
  if (cycle !== null) throw new UsageError(`the tasks' dependencies form a cycle: ${cycle.join(" -> ")}`);
  const byId = new Map(tasks.map((t) => [t.task_id!, t]));
  const placed = new Set<string>();
  const out: NewTask[] = [];
  for (const root of tasks) {
    // Iterative depth-first: each task after its dependencies (a chain of 10,000 is no problem).
    const stack: Array<[NewTask, number]> = [[root, 0]];
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const [task, k] = top;
      if (placed.has(task.task_id!)) {
        stack.pop();
        continue;
      }
      const deps = task.depends_on ?? [];
      if (k < deps.length) {
        top[1] = k + 1;
        const dep = byId.get(deps[k]!);
        if (dep !== undefined && !placed.has(dep.task_id!)) stack.push([dep, 0]);
        continue;
      }
      placed.add(task.task_id!);
      out.push(task);
      stack.pop();
    }
  }
  return out;
}

export async function submit(options: ParsedOptions): Promise<number> {
  const api = new ApiClient(String(options.coordinator));
  const schedule = scheduleFlags(options);
  const tasks = inDependencyOrder(withIds(readTasks(options))).map((t) =>
    typeof t === "object" && t !== null ? { ...schedule, ...t } : t,
  );
  if (tasks.length === 0) throw new UsageError("no tasks to submit");
  const accepted: Array<{ task_id: string }> = [];
  for (let i = 0; i < tasks.length; i += 1000) {
    const reply = await api.request<{ tasks: Array<{ task_id: string }> }>(
      "POST",
      "/tasks",
      tasks.slice(i, i + 1000),
    );
    accepted.push(...reply.tasks);
  }
  if (!options.wait) {
    for (const t of accepted) process.stdout.write(`${JSON.stringify(t)}\n`);
    return 0;
  }
  const timeout = Number(options.timeout);
  let allCompleted = true;
  const queue = [...accepted];
  const workers = Array.from({ length: Math.min(32, queue.length) }, async () => {
    for (let t = queue.shift(); t !== undefined; t = queue.shift()) {
      const path = `/tasks/${encodeURIComponent(t.task_id)}?wait=${timeout}`;
      // A long poll: answered when the task ends or the wait is over, so its answer may take that long.
      const done = await api.request<{ status: string }>(
        "GET",
        path,
        undefined,
        timeout + 5000,
        30_000,
        timeout + 5000,
      );
      if (done.status !== "completed") allCompleted = false;
      process.stdout.write(`${JSON.stringify(done)}\n`);
    }
  });
  await Promise.all(workers);
  return allCompleted ? 0 : 1;
}
