import { readFileSync } from "node:fs";
import { ApiClient } from "../api-client.js";
import { type CommandSpec, type ParsedOptions, positiveInt, UsageError } from "../options.js";

export const submitSpec: CommandSpec = {
  name: "submit",
  summary: "Submit tasks to a coordinator: one, --count copies, or a batch from a file or stdin.",
  usage: "triad submit --coordinator URL (--type TYPE [--payload JSON] [--count N] | --file FILE|-) [--wait]",
  flags: [
    { name: "coordinator", type: "string", description: "the coordinator's URL", required: true },
    {
      name: "type",
      type: "string",
      description: "task type (compute, data_processing, echo, sleep, or yours)",
    },
    { name: "payload", type: "string", description: "the task's payload, a JSON object", default: "{}" },
    { name: "count", type: "number", description: "submit this many copies", default: 1 },
    {
      name: "file",
      type: "string",
      description: "a JSON array (or JSON lines) of {task_type, payload, task_id?}; - for stdin",
    },
    {
      name: "wait",
      type: "boolean",
      description: "wait for every task to finish and print its final record",
      default: false,
    },
    { name: "timeout", type: "number", description: "ms to wait for each task with --wait", default: 60_000 },
  ],
  notes:
    "Prints one JSON task record per line. With --wait the exit code is 0 when every task completed, 1 otherwise.\n" +
    "Environment: TRIAD_API_TOKEN (bearer token, when the coordinator wants one).",
};

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

export async function submit(options: ParsedOptions): Promise<number> {
  const api = new ApiClient(String(options.coordinator));
  const tasks = readTasks(options);
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
