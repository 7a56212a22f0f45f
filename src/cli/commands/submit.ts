import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import type { TaskDict } from "../../agents/protocol.js";
import { findCycle } from "../../agents/workflow/graph-validation.js";
import { TriadError } from "../../core/errors.js";
import { isTerminalStatus } from "../../core/state/status.js";
import { ApiClient } from "../api-client.js";
import { refuseDuplicateKeys } from "../json-text.js";
import { type ParsedOptions, positiveInt, taskTypeOption, UsageError } from "../options.js";

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

/** The tasks of --file, as the file lists them. */
function readFile(options: ParsedOptions): NewTask[] {
  // Each task of the file names its own type: a --type beside it would be silently ignored.
  if (options.type !== undefined)
    throw new UsageError("--type and --file cannot be given together: a --file task names its own task_type");
  const file = String(options.file);
  const source = sourceName(options);
  const text = readText(file, source);
  const trimmed = text.trim();
  // Bad data, not bad usage: one error with its code (exit 1), as the coordinator would refuse it.
  if (trimmed.startsWith("[")) {
    let tasks: NewTask[];
    try {
      tasks = JSON.parse(trimmed) as NewTask[];
    } catch (err) {
      throw new TriadError("ERR_MALFORMED_JSON", `${source} is not a JSON array: ${(err as Error).message}`);
    }
    refuseDuplicateKeys(trimmed, source, false);
    return tasks;
  }
  return trimmed
    .split("\n")
    .filter((l) => l.trim())
    .map((l, i) => {
      let task: NewTask;
      try {
        task = JSON.parse(l) as NewTask;
      } catch (err) {
        throw new TriadError(
          "ERR_MALFORMED_JSON",
          `${source} line ${i + 1} is not JSON: ${(err as Error).message}`,
        );
      }
      refuseDuplicateKeys(l, `${source} line ${i + 1}`, false);
      return task;
    });
}

/**
 * The text of --file (stdin for -). A file that cannot be read is bad data, not bad usage: one
 * line with its code, exit 1 (it was Node's bare "ENOENT: no such file or directory, open ...").
 */
function readText(file: string, source: string): string {
  try {
    return file === "-" ? readFileSync(0, "utf8") : readFileSync(file, "utf8");
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code;
    if (why === "ENOENT") throw new TriadError("ERR_FILE_NOT_FOUND", `--file ${source}: no such file`);
    throw new TriadError(
      "ERR_FILE_UNREADABLE",
      `--file ${source} cannot be read: ${why === "EISDIR" ? "it is a directory" : (why ?? (err as Error).message)}`,
    );
  }
}

/** What --file names, for an error: the file, or stdin for -. */
function sourceName(options: ParsedOptions): string {
  return options.file === "-" ? "stdin" : String(options.file);
}

/** Tasks go to the coordinator in requests of this many. */
const BATCH = 1000;

/**
 * The tasks to send, in requests of BATCH, each task with its id and the scheduling flags.
 * --count copies are made a request at a time, as they are sent: a large count holds one
 * request's tasks, never all of them (--count 10000000 would not fit in memory).
 */
function* taskBatches(options: ParsedOptions): Generator<NewTask[]> {
  const schedule = scheduleFlags(options);
  const withSchedule = (t: NewTask) => (typeof t === "object" && t !== null ? { ...schedule, ...t } : t);
  if (options.file !== undefined) {
    const tasks = inDependencyOrder(withIds(readFile(options)), sourceName(options)).map(withSchedule);
    if (tasks.length === 0) throw new UsageError("no tasks to submit");
    for (let i = 0; i < tasks.length; i += BATCH) yield tasks.slice(i, i + BATCH);
    return;
  }
  if (options.type === undefined) throw new UsageError("give --type TYPE (with --payload), or --file FILE");
  let payload: unknown;
  try {
    payload = JSON.parse(String(options.payload));
  } catch (err) {
    throw new UsageError(`--payload is not JSON: ${(err as Error).message}`, "ERR_MALFORMED_JSON");
  }
  refuseDuplicateKeys(String(options.payload), "--payload");
  const count = positiveInt(options, "count");
  const taskType = taskTypeOption(options, "type")!;
  for (let sent = 0; sent < count; sent += BATCH) {
    yield Array.from({ length: Math.min(BATCH, count - sent) }, () =>
      withSchedule({ task_type: taskType, payload, task_id: randomUUID() }),
    );
  }
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
 * is refused here, before anything is sent, with the coordinator's code for it (ERR_INVALID_TASK).
 */
function inDependencyOrder(tasks: NewTask[], file: string): NewTask[] {
  if (!tasks.some((t) => typeof t === "object" && t !== null && Array.isArray(t.depends_on))) return tasks;
  const cycle = findCycle(tasks as unknown as TaskDict[]);
  if (cycle !== null)
    throw new TriadError(
      "ERR_INVALID_TASK",
      `${file}: the tasks' dependencies form a cycle: ${cycle.join(" -> ")}; nothing was sent`,
    );
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
  const batches = taskBatches(options);
  if (!options.wait) {
    // Each request's records printed as it is accepted.
    for (const batch of batches) {
      const reply = await api.request<{ tasks: Array<{ task_id: string }> }>("POST", "/tasks", batch);
      for (const t of reply.tasks) process.stdout.write(`${JSON.stringify(t)}\n`);
    }
    return 0;
  }
  const waits = new TaskWaits(api, Number(options.timeout));
  try {
    for (const batch of batches) {
      const reply = await api.request<{ tasks: Array<{ task_id: string }> }>("POST", "/tasks", batch);
      await waits.add(reply.tasks.map((t) => t.task_id));
    }
  } catch (err) {
    waits.stop();
    throw err;
  }
  waits.close();
  const { allCompleted, open, openCount } = await waits.done;
  if (openCount > 0) {
    const more = openCount > open.length ? ` and ${openCount - open.length} more` : "";
    process.stderr.write(
      `triad submit: --wait timed out (--timeout ${options.timeout} ms) with ${openCount} task${openCount === 1 ? "" : "s"} still open: ${open.join(", ")}${more}\n`,
    );
  }
  return allCompleted ? 0 : 1;
}

/**
 * --wait: 32 long polls at a time, each printing its task's final record (or the record as it
 * is when the wait runs out). Ids are waited on as their requests are accepted; the sender is
 * held while more than MAX_QUEUED wait their turn, so a large --count never holds all its ids.
 */
class TaskWaits {
  static readonly CONCURRENCY = 32;
  static readonly MAX_QUEUED = 10_000;
  /** Tasks still open when their wait ran out: the first few named, all counted. */
  static readonly OPEN_NAMED = 10;
  private readonly queue: string[] = [];
  private closed = false;
  private wakeLoops: Array<() => void> = [];
  private wakeSender: Array<() => void> = [];
  private allCompleted = true;
  private readonly open: string[] = [];
  private openCount = 0;
  readonly done: Promise<{ allCompleted: boolean; open: string[]; openCount: number }>;

  constructor(
    private readonly api: ApiClient,
    private readonly timeout: number,
  ) {
    const loops = Array.from({ length: TaskWaits.CONCURRENCY }, () =>
      this.loop().catch((err: unknown) => {
        this.stop(); // the other loops begin no new wait
        throw err;
      }),
    );
    this.done = Promise.all(loops).then(() => ({
      allCompleted: this.allCompleted,
      open: this.open,
      openCount: this.openCount,
    }));
    // A failed wait is thrown by `add` (racing `done`) or by `done` itself.
    this.done.catch(() => undefined);
  }

  /** Queues ids to wait on; resolves once no more than MAX_QUEUED wait their turn. */
  async add(ids: string[]): Promise<void> {
    this.queue.push(...ids);
    this.wake(this.wakeLoops);
    while (this.queue.length > TaskWaits.MAX_QUEUED)
      await Promise.race([new Promise<void>((r) => this.wakeSender.push(r)), this.done]);
  }

  /** No more ids: the waits end when the queue is empty. */
  close(): void {
    this.closed = true;
    this.wake(this.wakeLoops);
  }

  /** Sending failed: no wait not yet begun is begun. */
  stop(): void {
    this.queue.length = 0;
    this.close();
  }

  private wake(sleepers: Array<() => void>): void {
    for (const r of sleepers.splice(0)) r();
  }

  private async loop(): Promise<void> {
    for (;;) {
      while (this.queue.length === 0 && !this.closed) await new Promise<void>((r) => this.wakeLoops.push(r));
      const id = this.queue.shift();
      if (id === undefined) return;
      if (this.queue.length <= TaskWaits.MAX_QUEUED) this.wake(this.wakeSender);
      const path = `/tasks/${encodeURIComponent(id)}?wait=${this.timeout}`;
      // A long poll: answered when the task ends or the wait is over, so its answer may take that long.
      const record = await this.api.request<{ status: string }>(
        "GET",
        path,
        undefined,
        this.timeout + 5000,
        30_000,
        this.timeout + 5000,
      );
      if (record.status !== "completed") this.allCompleted = false;
      if (!isTerminalStatus(record.status)) {
        if (this.openCount++ < TaskWaits.OPEN_NAMED) this.open.push(`${id} (${record.status})`);
      }
      process.stdout.write(`${JSON.stringify(record)}\n`);
    }
  }
}
