import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApiClient } from "../api-client.js";
import { type ParsedOptions, positiveInt, UsageError } from "../options.js";

type NewTask = { task_type: string; payload?: unknown; task_id?: string };

function readTasks(options: ParsedOptions): NewTask[] {
  if (options.file !== undefined) {
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

export async function submit(options: ParsedOptions): Promise<number> {
  const api = new ApiClient(String(options.coordinator));
  const tasks = withIds(readTasks(options));
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
      const done = await api.request<{ status: string }>("GET", path, undefined, timeout + 5000);
      if (done.status !== "completed") allCompleted = false;
      process.stdout.write(`${JSON.stringify(done)}\n`);
    }
  });
  await Promise.all(workers);
  return allCompleted ? 0 : 1;
}
