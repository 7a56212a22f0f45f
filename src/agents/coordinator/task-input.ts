import { TriadError } from "../../core/errors.js";
import { assertJson, isPlainJson, type JsonObject, jsonCopy } from "../../core/json.js";
import { timestampNow } from "../../core/messaging/timestamp.js";
import { Task } from "../../core/state/index.js";
import { assertSubmittableTaskId, MAX_TASK_ID_LENGTH } from "../../core/state/task-id.js";
import { assertSubmittableTaskType, MAX_TASK_TYPE_LENGTH } from "../../core/state/task-type.js";
import { isWellFormed, notWellFormed } from "../../core/state/well-formed.js";
import { isDependencyPolicy, isIdList } from "../parse-payload.js";
import { checkPayloadDepth } from "../payload-depth.js";
import { type TaskDict, taskDictSchema } from "../protocol.js";

/** A seed-style Task, or its dict. */
export type TaskInput = Task | TaskDict | Record<string, unknown>;

/** A Task, or a dict with at least task_id and task_type, as a validated task dict to submit. */
export function toDict(task: TaskInput): TaskDict {
  // Before any schema walks the payload: a recursive walk of 10,000 levels would overflow.
  const given = (typeof task === "object" && task !== null ? task : {}) as Record<string, unknown>;
  if (task instanceof Task) checkPayloadDepth(task.payload, task.taskId);
  else checkPayloadDepth(given.payload, given.task_id);
  // Before the schema, whose "too big" would not say which key.
  const taskType = task instanceof Task ? task.taskType : given.task_type;
  if (typeof taskType === "string") assertSubmittableTaskType(taskType);
  if (typeof given.task_id === "string") assertSubmittableTaskId(given.task_id);
  checkDependencyIds(task instanceof Task ? task.dependsOn : given.depends_on);
  const dict = validDict(task);
  assertSubmittableTaskId(dict.task_id);
  // The ledger says what a task still waits on; a client's own list means nothing.
  delete dict.waiting_on;
  if (dict.depends_on?.length === 0) delete dict.depends_on;
  return dict;
}

/** A dependency id the store would keep as another string (a lone surrogate) is refused, naming it. */
function checkDependencyIds(ids: unknown): void {
  if (!Array.isArray(ids)) return;
  for (const dep of ids) {
    const why = typeof dep === "string" ? notWellFormed(dep) : null;
    if (why !== null) throw new TriadError("ERR_INVALID_TASK", `depends_on ${JSON.stringify(dep)} ${why}`);
  }
}

/**
 * The task dict of a submitted task, with a payload of its own: nothing in it is the caller's,
 * who may go on to change what it passed. The dict is then handed on without another copy
 * (CoordinatorAgent.handsOver).
 */
function validDict(task: TaskInput): TaskDict {
  const fresh = freshTaskDict(task);
  if (fresh !== null) return fresh;
  let dict: TaskDict;
  if (task instanceof Task) dict = task.toDict() as TaskDict;
  else {
    const t = Task.fromDict({ payload: {}, ...(task as Record<string, unknown>) });
    const parsed = taskDictSchema.safeParse(t.toDict());
    if (!parsed.success)
      throw new TriadError("ERR_INVALID_TASK", parsed.error.issues[0]?.message ?? "invalid task");
    dict = parsed.data;
  }
  return jsonCopy(dict) as TaskDict;
}

const FRESH_KEYS = new Set(["task_id", "task_type", "payload", "depends_on", "on_dependency_failure"]);

/**
 * The hot path of submitTask: a new task given as `{ task_id, task_type, payload? }` (what
 * clients send), with `depends_on` and `on_dependency_failure` if it has them, becomes its
 * pending task dict with one plain check instead of three schema passes. Anything else (more
 * keys, odd values) is null and goes the general way, which also words the errors.
 */
function freshTaskDict(task: unknown): TaskDict | null {
  if (typeof task !== "object" || task === null || Object.getPrototypeOf(task) !== Object.prototype)
    return null;
  const {
    task_id,
    task_type,
    payload = {},
    depends_on,
    on_dependency_failure,
  } = task as Record<string, unknown>;
  for (const key in task) if (!FRESH_KEYS.has(key)) return null;
  if (!isBounded(task_id, MAX_TASK_ID_LENGTH) || !isBounded(task_type, MAX_TASK_TYPE_LENGTH)) return null;
  if (depends_on !== undefined && !isIdList(depends_on)) return null;
  if (on_dependency_failure !== undefined && !isDependencyPolicy(on_dependency_failure)) return null;
  if (
    typeof payload !== "object" ||
    payload === null ||
    Object.getPrototypeOf(payload) !== Object.prototype
  ) {
    return null;
  }
  // The common case first: isPlainJson allocates nothing, where assertJson's walk makes a set,
  // entry arrays and a path per member; only what it does not vouch for is checked in full.
  if (!isPlainJson(payload)) {
    try {
      assertJson(payload, "payload");
    } catch {
      return null;
    }
  }
  // Members in sorted order, as canonical JSON writes them (the assignment carries this dict).
  // A plain literal: a spread would give every task dict a slower shape.
  const dict: TaskDict = {
    assigned_to: null,
    attempts: 0,
    completed_at: null,
    created_at: timestampNow(),
    error: null,
    payload: jsonCopy(payload) as JsonObject,
    result: null,
    started_at: null,
    status: "pending",
    task_id,
    task_type,
  };
  if (depends_on !== undefined) dict.depends_on = [...depends_on];
  if (on_dependency_failure !== undefined) dict.on_dependency_failure = on_dependency_failure;
  return dict;
}

/** A task id or type: a non-empty string within its shared bound. */
function isBounded(value: unknown, max: number): value is string {
  return typeof value === "string" && value.length > 0 && value.length <= max && isWellFormed(value);
}
