import { isPlainObject, type JsonObject, type JsonValue } from "../core/json.js";
import type { PayloadCodec } from "../core/messaging/payload-codec.js";

/**
 * The task lists of `assign_tasks`, `execute_tasks` and `task_terminal` as columns, for agents
 * in other processes (the messaging layer's payload codec: used only for a peer whose message
 * stream announced it reads "tasks-packed-1"; an older peer gets the lists as they always were).
 *
 * As dicts, a batch of tasks repeats every member name for every task, and the values most tasks
 * of a batch share (the status, the task type, the worker, a batch's created_at, the nulls):
 * ~280 bytes of JSON a task between two tiers, each byte written, signed, read, verified and
 * parsed. As columns the names come once a batch and a value all tasks share once; a no-op
 * task's `execute_tasks` item takes ~60 bytes.
 *
 *   event_data.tasks (n items)  ->  event_data.packed = { n, tasks: { <key>: column, ... },
 *                                                        fence?: column, timeout_ms?: column }
 *   column: { "s": value } (every task has that value) or { "v": [n values] }
 *
 * `tasks` holds a column for each of the eleven members of a task dict. Only a list whose tasks
 * have exactly those members (and, for `execute_tasks`, whose items have only `task`, `fence`
 * and `timeout_ms`) is packed; a list with a task that has more (dependencies, a schedule,
 * progress, a checkpoint, a trace...) goes as it is. Decoding gives back the list as it was sent
 * (members in the same sorted order), which the receiving agent then checks as any other.
 */
export const PACKED_TASKS: PayloadCodec = {
  name: "tasks-packed-1",
  encode(payload) {
    const kind = payload.event_type;
    const data = payload.event_data;
    if (!isPackedKind(kind) || !isObject(data) || !Array.isArray(data.tasks) || data.packed !== undefined)
      return payload;
    const packed = kind === "execute_tasks" ? packDispatched(data.tasks) : packTaskList(data.tasks);
    if (packed === null) return payload;
    const { tasks: _, ...rest } = data;
    return { ...payload, event_data: { ...rest, packed } };
  },
  decode(payload) {
    const data = payload.event_data;
    if (!isObject(data) || data.packed === undefined) return payload;
    const kind = payload.event_type;
    if (!isPackedKind(kind)) throw new Error(`${String(kind)} has no packed form`);
    if (data.tasks !== undefined) throw new Error("packed and tasks both given");
    const { packed: p, ...rest } = data;
    if (!isObject(p)) throw new Error("packed must be an object");
    const n = p.n;
    if (!Number.isSafeInteger(n) || (n as number) < 1 || (n as number) > MAX_PACKED)
      throw new Error(`packed.n must be an integer in 1..${MAX_PACKED}`);
    const tasks = unpackTable(p.tasks, n as number);
    const dispatched = kind === "execute_tasks";
    for (const key in p) {
      if (key === "n" || key === "tasks" || (dispatched && (key === "fence" || key === "timeout_ms")))
        continue;
      throw new Error(`packed.${key} is not a member of ${kind}'s packed form`);
    }
    if (!dispatched) return { ...payload, event_data: { ...rest, tasks } };
    const fence = values(p.fence, n as number, "fence");
    const timeout = values(p.timeout_ms, n as number, "timeout_ms");
    const items: JsonValue[] = new Array(n as number);
    for (let i = 0; i < (n as number); i++) {
      items[i] = { fence: fence[i]!, task: tasks[i]!, timeout_ms: timeout[i]! };
    }
    return { ...payload, event_data: { ...rest, tasks: items } };
  },
};

/** The members of a task dict, in sorted order (how its senders write them, and how it is rebuilt). */
export const TASK_KEYS = [
  "assigned_to",
  "attempts",
  "completed_at",
  "created_at",
  "error",
  "payload",
  "result",
  "started_at",
  "status",
  "task_id",
  "task_type",
] as const;

/** Most tasks in one packed list: what a batch between tiers holds, with room (MAX_BATCH_MESSAGES x 10). */
const MAX_PACKED = 10_000;

type Column = { s: JsonValue } | { v: JsonValue[] };

function isPackedKind(kind: unknown): kind is "assign_tasks" | "execute_tasks" | "task_terminal" {
  return kind === "assign_tasks" || kind === "execute_tasks" || kind === "task_terminal";
}

/** A dict as JSON.parse and the agents make them (the project's isPlainObject, typed as JSON). */
function isObject(v: unknown): v is JsonObject {
  return isPlainObject(v);
}

/** A list of plain task dicts as columns; null when a task has other members. */
function packTaskList(tasks: JsonValue[]): JsonObject | null {
  if (tasks.length === 0 || tasks.length > MAX_PACKED) return null;
  const table = packTable(tasks);
  return table === null ? null : { n: tasks.length, tasks: table };
}

/** execute_tasks' items ({ task, fence, timeout_ms } and nothing else) as columns; else null. */
function packDispatched(items: JsonValue[]): JsonObject | null {
  const n = items.length;
  if (n === 0 || n > MAX_PACKED) return null;
  const tasks: JsonValue[] = new Array(n);
  const fence: JsonValue[] = new Array(n);
  const timeout: JsonValue[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const item = items[i];
    if (!isObject(item) || memberCount(item) !== 3) return null;
    const { task, fence: f, timeout_ms: t } = item;
    if (task === undefined || f === undefined || t === undefined) return null;
    tasks[i] = task;
    fence[i] = f;
    timeout[i] = t;
  }
  const table = packTable(tasks);
  if (table === null) return null;
  return { fence: column(fence), n, tasks: table, timeout_ms: column(timeout) };
}

/** The tasks' members as columns (named loads, one pass); null when a task is not a plain dict. */
function packTable(tasks: JsonValue[]): JsonObject | null {
  const n = tasks.length;
  const cols: JsonValue[][] = TASK_KEYS.map(() => new Array<JsonValue>(n));
  for (let i = 0; i < n; i++) {
    const t = tasks[i];
    if (!isObject(t) || memberCount(t) !== TASK_KEYS.length) return null;
    // Eleven members, each of them defined: exactly a task dict's (a member missing is undefined).
    // Named loads into locals, then straight into the columns: no array a task.
    const {
      assigned_to: assignedTo,
      attempts,
      completed_at: completedAt,
      created_at: createdAt,
      error,
      payload,
      result,
      started_at: startedAt,
      status,
      task_id: id,
      task_type: type,
    } = t;
    if (
      assignedTo === undefined ||
      attempts === undefined ||
      completedAt === undefined ||
      createdAt === undefined ||
      error === undefined ||
      payload === undefined ||
      result === undefined ||
      startedAt === undefined ||
      status === undefined ||
      id === undefined ||
      type === undefined
    )
      return null;
    cols[0]![i] = assignedTo;
    cols[1]![i] = attempts;
    cols[2]![i] = completedAt;
    cols[3]![i] = createdAt;
    cols[4]![i] = error;
    cols[5]![i] = payload;
    cols[6]![i] = result;
    cols[7]![i] = startedAt;
    cols[8]![i] = status;
    cols[9]![i] = id;
    cols[10]![i] = type;
  }
  const table: JsonObject = {};
  TASK_KEYS.forEach((key, k) => {
    table[key] = column(cols[k]!);
  });
  return table;
}

/** Values as a column: once, when all are one value that is not an object, else each. */
function column(values: JsonValue[]): Column {
  const first = values[0]!;
  if (typeof first === "object" && first !== null) return { v: values };
  for (let i = 1; i < values.length; i++) if (values[i] !== first) return { v: values };
  return { s: first };
}

function memberCount(obj: JsonObject): number {
  let count = 0;
  for (const _ in obj) count++;
  return count;
}

function unpackTable(table: JsonValue | undefined, n: number): JsonObject[] {
  if (!isObject(table)) throw new Error("packed.tasks must be an object");
  if (memberCount(table) !== TASK_KEYS.length)
    throw new Error(`packed.tasks must have exactly the ${TASK_KEYS.length} task members`);
  const [assignedTo, attempts, completedAt, createdAt, error, payload, result, startedAt, status, id, type] =
    TASK_KEYS.map((key) => values(table[key], n, `tasks.${key}`));
  const tasks: JsonObject[] = new Array(n);
  for (let i = 0; i < n; i++) {
    // One literal, members in sorted order: every task of one hidden class, as JSON.parse makes them.
    tasks[i] = {
      assigned_to: assignedTo![i]!,
      attempts: attempts![i]!,
      completed_at: completedAt![i]!,
      created_at: createdAt![i]!,
      error: error![i]!,
      payload: payload![i]!,
      result: result![i]!,
      started_at: startedAt![i]!,
      status: status![i]!,
      task_id: id![i]!,
      task_type: type![i]!,
    };
  }
  return tasks;
}

/** A column's n values; throws when it is not a column of n. */
function values(c: JsonValue | undefined, n: number, what: string): JsonValue[] {
  if (isObject(c) && memberCount(c) === 1) {
    if ("s" in c) return new Array<JsonValue>(n).fill(c.s!);
    if (Array.isArray(c.v) && c.v.length === n) return c.v;
  }
  throw new Error(`packed.${what} must be { "s": value } or { "v": [${n} values] }`);
}
