import { TriadError } from "../errors.js";
import { assertJson, isPlainObject, type JsonObject, type JsonValue } from "../json.js";
import { shownValue } from "../option-kinds.js";
import { TaskStatus, TERMINAL_TASK_STATUSES } from "./status.js";
import { checkTaskInitKeys } from "./task-init-keys.js";
import { type DependencyFailurePolicy, type TaskDict, taskDictSchema } from "./task-schema.js";
import { parseDict, utcNow } from "./validation.js";

export type TaskInit = {
  taskId: string;
  taskType: string;
  payload?: JsonObject;
  status?: TaskStatus;
  result?: JsonValue;
  error?: string | null;
  attempts?: number;
  assignedTo?: string | null;
  createdAt?: string;
  startedAt?: string | null;
  completedAt?: string | null;
  /** Ids of tasks that must end before this one runs (SPEC "Workflows"). */
  dependsOn?: string[];
  /** Of dependsOn, those still open (as the ledger reports it). */
  waitingOn?: string[];
  /** "abandon" (the default) or "run" when a dependency ends failed or abandoned. */
  onDependencyFailure?: DependencyFailurePolicy;
  /** The task whose handler spawned this one. */
  parentId?: string;
  /** 0-9, higher first (SPEC "Scheduling controls"); 0, the default, is absent from the dict. */
  priority?: number;
  /** ISO-8601 with a zone: not started before. */
  runAt?: string;
  /** ISO-8601 with a zone: not started by then, it ends abandoned with error "expired". */
  expiresAt?: string;
  /** What the task asks a person for while it is input_required (SPEC "Waiting for input"). */
  inputRequest?: JsonValue;
  /** How long it may wait for input before it ends abandoned; default 86,400,000 ms. */
  inputTimeoutMs?: number;
  /** The values given to it so far, in order. */
  inputs?: JsonValue[];
  /** The latest value its handler reported with ctx.progress. */
  progress?: JsonValue;
  /** The grant that owns this attempt; not part of the dict (the store keeps fences itself). */
  fencingToken?: number | null;
};

/** What LocalAgentState.updateTask may change. A status change goes through the lifecycle rules. */
export type TaskUpdates = {
  payload?: JsonObject;
  status?: TaskStatus;
  result?: JsonValue;
  error?: string | null;
  assignedTo?: string | null;
  fencingToken?: number | null;
};

/** A dict fromDict has just validated, for the constructor it calls to take as is (never held across calls). */
let validated: ReturnType<typeof taskDictSchema.parse> | undefined;

const UPDATABLE = new Set(["payload", "status", "result", "error", "assignedTo", "fencingToken"]);

/**
 * One unit of work and its life cycle (seed: Task). The legal moves:
 *
 *   markStarted      pending                -> in_progress  (attempts + 1)
 *   markCompleted    in_progress            -> completed
 *   markFailed       pending | in_progress  -> failed
 *   markAbandoned    pending | in_progress | input_required -> abandoned
 *   resetForRetry    in_progress | failed   -> pending      (attempts kept)
 *   reassign         pending | in_progress  -> pending      (new owner and fencing token)
 *   markInputRequired in_progress           -> input_required (the attempt ends, its worker is freed)
 *   provideInput     input_required         -> pending      (the value joins inputs)
 *
 * completed and abandoned are final. A task waiting for input (SPEC "Waiting for input") only
 * leaves that state with an answer or abandoned (canceled, or its input_timeout_ms ran out), as
 * the ledger's scripts move it. Anything else throws ERR_ILLEGAL_TRANSITION naming both
 * ends, so a late or duplicated message cannot silently rewrite an outcome.
 */
export class Task {
  readonly taskId: string;
  readonly taskType: string;
  #payload: JsonObject;
  #status: TaskStatus;
  #result: JsonValue;
  #error: string | null;
  #attempts: number;
  #assignedTo: string | null;
  readonly createdAt: string;
  #startedAt: string | null;
  #completedAt: string | null;
  #fencingToken: number | null;
  readonly dependsOn: string[] | undefined;
  readonly waitingOn: string[] | undefined;
  readonly onDependencyFailure: DependencyFailurePolicy | undefined;
  readonly parentId: string | undefined;
  readonly priority: number;
  readonly runAt: string | undefined;
  readonly expiresAt: string | undefined;
  #inputRequest: JsonValue | undefined;
  readonly inputTimeoutMs: number | undefined;
  #inputs: JsonValue[] | undefined;
  readonly progress: JsonValue | undefined;

  constructor(init: TaskInit) {
    if (init === null || typeof init !== "object") {
      throw new TriadError("ERR_INVALID_TASK", "new Task() needs { taskId, taskType, ... }");
    }
    if (validated === undefined) checkTaskInitKeys(init);
    const dict =
      validated ??
      parseDict(
        taskDictSchema,
        {
          task_id: init.taskId,
          task_type: init.taskType,
          payload: init.payload,
          status: init.status,
          result: init.result,
          error: init.error,
          attempts: init.attempts,
          assigned_to: init.assignedTo,
          created_at: init.createdAt,
          started_at: init.startedAt,
          completed_at: init.completedAt,
          depends_on: init.dependsOn,
          waiting_on: init.waitingOn,
          on_dependency_failure: init.onDependencyFailure,
          parent_id: init.parentId,
          priority: init.priority,
          run_at: init.runAt,
          expires_at: init.expiresAt,
          input_request: init.inputRequest,
          input_timeout_ms: init.inputTimeoutMs,
          inputs: init.inputs,
          progress: init.progress,
        },
        "ERR_INVALID_TASK",
        "task",
      );
    validated = undefined;
    this.dependsOn = dict.depends_on;
    this.waitingOn = dict.waiting_on;
    this.onDependencyFailure = dict.on_dependency_failure;
    this.parentId = dict.parent_id;
    checkScheduleWindow(dict.run_at, dict.expires_at);
    this.priority = dict.priority ?? 0;
    this.runAt = dict.run_at;
    this.expiresAt = dict.expires_at;
    this.#inputRequest = dict.input_request;
    this.inputTimeoutMs = dict.input_timeout_ms;
    this.#inputs = dict.inputs;
    this.progress = dict.progress;
    this.taskId = dict.task_id;
    this.taskType = dict.task_type;
    this.#payload = dict.payload ?? {};
    this.#status = dict.status ?? TaskStatus.PENDING;
    this.#result = dict.result ?? null;
    this.#error = dict.error ?? null;
    this.#attempts = dict.attempts ?? 0;
    this.#assignedTo = dict.assigned_to ?? null;
    this.createdAt = dict.created_at ?? utcNow();
    this.#startedAt = dict.started_at ?? null;
    this.#completedAt = dict.completed_at ?? null;
    this.#fencingToken = checkToken(init.fencingToken ?? null);
  }

  get payload(): JsonObject {
    return this.#payload;
  }
  get status(): TaskStatus {
    return this.#status;
  }
  get result(): JsonValue {
    return this.#result;
  }
  get error(): string | null {
    return this.#error;
  }
  get attempts(): number {
    return this.#attempts;
  }
  get assignedTo(): string | null {
    return this.#assignedTo;
  }
  get startedAt(): string | null {
    return this.#startedAt;
  }
  get completedAt(): string | null {
    return this.#completedAt;
  }
  get fencingToken(): number | null {
    return this.#fencingToken;
  }
  /** What the task asks a person for while it is input_required (kept once it ends abandoned waiting). */
  get inputRequest(): JsonValue | undefined {
    return this.#inputRequest;
  }
  /** The values given to it so far, in order (its handler's ctx.inputs); undefined before the first. */
  get inputs(): readonly JsonValue[] | undefined {
    return this.#inputs;
  }
  /** completed, failed or abandoned. */
  get isTerminal(): boolean {
    return TERMINAL_TASK_STATUSES.has(this.#status);
  }

  /** pending -> in_progress; counts the attempt. */
  markStarted(): void {
    this.transition(TaskStatus.IN_PROGRESS, [TaskStatus.PENDING]);
    this.#attempts += 1;
    this.#startedAt = utcNow();
    this.#completedAt = null;
    this.#result = null;
    this.#error = null;
  }

  /** in_progress -> completed, with the handler's result (must be JSON). */
  markCompleted(result: JsonValue = null): void {
    assertJson(result, `result of task ${this.taskId}`);
    this.transition(TaskStatus.COMPLETED, [TaskStatus.IN_PROGRESS]);
    this.#result = result;
    this.#error = null;
    this.#completedAt = utcNow();
  }

  /** pending or in_progress -> failed. A pending task fails when it cannot even start (unknown type). */
  markFailed(error: string): void {
    checkReason(error, "markFailed");
    this.transition(TaskStatus.FAILED, [TaskStatus.PENDING, TaskStatus.IN_PROGRESS]);
    this.#error = error;
    this.#completedAt = utcNow();
  }

  /**
   * pending, in_progress or input_required -> abandoned: Triad gives up on the task (attempts
   * exhausted, no workers, canceled, no input within input_timeout_ms). A waiting task keeps its
   * input_request, so its dict still says what it waited for.
   */
  markAbandoned(reason: string): void {
    checkReason(reason, "markAbandoned");
    this.transition(TaskStatus.ABANDONED, [
      TaskStatus.PENDING,
      TaskStatus.IN_PROGRESS,
      TaskStatus.INPUT_REQUIRED,
    ]);
    this.#error = reason;
    this.#completedAt = utcNow();
  }

  /**
   * in_progress -> input_required: the attempt ends asking a person for `request` (JSON; what
   * ctx.requestInput or a LangGraph interrupt gave). Not a failure and not terminal: the task
   * holds no worker (no owner) until provideInput. Attempts and the fencing token are kept.
   */
  markInputRequired(request: JsonValue): void {
    if (request === undefined) {
      throw new TriadError(
        "ERR_INVALID_TASK",
        `task ${this.taskId}: markInputRequired needs the request (any JSON)`,
      );
    }
    assertJson(request, `input request of task ${this.taskId}`);
    this.transition(TaskStatus.INPUT_REQUIRED, [TaskStatus.IN_PROGRESS]);
    this.#inputRequest = request;
    this.#assignedTo = null;
    this.#result = null;
    this.#error = null;
    this.#completedAt = null;
  }

  /**
   * input_required -> pending: `value` (JSON) answers the request and joins `inputs`; the request
   * is cleared and the task waits for its next attempt (on any worker). Only while it waits, so
   * the first answer wins and a second is refused (ERR_ILLEGAL_TRANSITION), as the ledger
   * refuses it. With `question` (how many inputs had been given when the question was asked,
   * as `triad input --question N`), refused when the task now asks a later one.
   */
  provideInput(value: JsonValue, question?: number): void {
    if (value === undefined) {
      throw new TriadError("ERR_INVALID_INPUT", `task ${this.taskId}: input needs a value (any JSON)`);
    }
    try {
      assertJson(value, "the input");
    } catch (err) {
      throw new TriadError("ERR_INVALID_INPUT", `task ${this.taskId}: ${(err as Error).message}`);
    }
    if (question !== undefined && !(Number.isSafeInteger(question) && question >= 0)) {
      throw new TriadError("ERR_INVALID_INPUT", `question must be an integer >= 0 (got ${question})`);
    }
    if (this.#status !== TaskStatus.INPUT_REQUIRED) {
      throw illegal(this, this.#status, TaskStatus.PENDING, "it is not waiting for input");
    }
    const given = this.#inputs?.length ?? 0;
    if (question !== undefined && question !== given) {
      throw illegal(
        this,
        this.#status,
        TaskStatus.PENDING,
        `it asks question ${given} now, not question ${question}`,
      );
    }
    this.#inputs = [...(this.#inputs ?? []), structuredClone(value)];
    this.#inputRequest = undefined;
    this.#status = TaskStatus.PENDING;
    this.#assignedTo = null;
    this.clearAttempt();
  }

  /** in_progress or failed -> pending, for another attempt; attempts and the fencing token are kept. */
  resetForRetry(): void {
    this.transition(TaskStatus.PENDING, [TaskStatus.IN_PROGRESS, TaskStatus.FAILED]);
    this.clearAttempt();
    this.#assignedTo = null;
  }

  /** Gives a pending task to `agentId` under a fencing token (which never goes backwards). */
  assign(agentId: string, fencingToken: number | null = null): void {
    if (this.#status !== TaskStatus.PENDING) throw illegal(this, this.#status, "assigned");
    this.setAssignee(agentId, fencingToken);
  }

  /** pending or in_progress -> pending under a new owner: its agent died or stopped answering. */
  reassign(agentId: string, fencingToken: number | null = null): void {
    if (this.#status !== TaskStatus.PENDING && this.#status !== TaskStatus.IN_PROGRESS) {
      throw illegal(this, this.#status, TaskStatus.PENDING);
    }
    this.setAssignee(agentId, fencingToken);
    this.#status = TaskStatus.PENDING;
    this.clearAttempt();
  }

  /** Applies a partial update (LocalAgentState.updateTask); a status change follows the lifecycle. */
  update(updates: TaskUpdates): void {
    // 5 (or null) has no keys: nothing was updated, and updateTask said true.
    if (!isPlainObject(updates))
      throw new TriadError(
        "ERR_INVALID_TASK",
        `task ${this.taskId}: updates must be an object (got ${shownValue(updates)})`,
      );
    for (const key of Object.keys(updates)) {
      if (!UPDATABLE.has(key)) {
        throw new TriadError("ERR_INVALID_TASK", `task ${this.taskId}: "${key}" cannot be updated`, { key });
      }
    }
    const { status, result, error } = updates;
    if (updates.payload !== undefined) {
      this.#payload = parseDict(
        taskDictSchema.shape.payload,
        updates.payload,
        "ERR_INVALID_TASK",
        "payload",
      )!;
    }
    if (updates.assignedTo !== undefined || updates.fencingToken !== undefined) {
      this.setAssignee(
        updates.assignedTo !== undefined ? updates.assignedTo : this.#assignedTo,
        updates.fencingToken !== undefined ? updates.fencingToken : this.#fencingToken,
      );
    }
    if (status === undefined || status === this.#status) {
      if ((result !== undefined || error !== undefined) && this.isTerminal) {
        throw illegal(this, this.#status, `${this.#status} with a new result/error`);
      }
      if (result !== undefined) this.#result = assertJson(result, `result of task ${this.taskId}`);
      if (error !== undefined) this.#error = error;
      return;
    }
    switch (status) {
      case TaskStatus.IN_PROGRESS:
        this.markStarted();
        break;
      case TaskStatus.COMPLETED:
        this.markCompleted(result ?? null);
        break;
      case TaskStatus.FAILED:
        this.markFailed(error ?? "failed");
        break;
      case TaskStatus.ABANDONED:
        this.markAbandoned(error ?? "abandoned");
        break;
      case TaskStatus.PENDING:
        this.resetForRetry();
        break;
      case TaskStatus.INPUT_REQUIRED:
        // The request is not among the updatable keys: the named transition carries it.
        throw new TriadError(
          "ERR_INVALID_TASK",
          `task ${this.taskId}: a task waits for input through markInputRequired(request), not update()`,
        );
      default:
        throw new TriadError("ERR_INVALID_TASK", `unknown task status ${JSON.stringify(status)}`);
    }
  }

  /** The seed's to_dict(): exactly the keys of SPEC.md (the fencing token stays out). */
  toDict(): TaskDict {
    const dict: TaskDict = {
      task_id: this.taskId,
      task_type: this.taskType,
      payload: this.#payload,
      status: this.#status,
      result: this.#result,
      error: this.#error,
      attempts: this.#attempts,
      assigned_to: this.#assignedTo,
      created_at: this.createdAt,
      started_at: this.#startedAt,
      completed_at: this.#completedAt,
    };
    // Workflow keys only when used: a seed-shaped task's dict is exactly the seed's.
    if (this.dependsOn !== undefined) dict.depends_on = [...this.dependsOn];
    if (this.waitingOn !== undefined) dict.waiting_on = [...this.waitingOn];
    if (this.onDependencyFailure !== undefined) dict.on_dependency_failure = this.onDependencyFailure;
    if (this.parentId !== undefined) dict.parent_id = this.parentId;
    if (this.priority !== 0) dict.priority = this.priority;
    if (this.runAt !== undefined) dict.run_at = this.runAt;
    if (this.expiresAt !== undefined) dict.expires_at = this.expiresAt;
    // Human input keys likewise (SPEC "Waiting for input").
    if (this.#inputRequest !== undefined) dict.input_request = this.#inputRequest;
    if (this.inputTimeoutMs !== undefined) dict.input_timeout_ms = this.inputTimeoutMs;
    if (this.#inputs !== undefined) dict.inputs = [...this.#inputs];
    if (this.progress !== undefined) dict.progress = this.progress;
    return dict;
  }

  toJSON(): TaskDict {
    return this.toDict();
  }

  /** Validates `obj` (ERR_INVALID_TASK names the bad field) and builds the task it describes. */
  static fromDict(obj: unknown): Task {
    // Validated once, here: the constructor takes the parsed dict as it is (a worker builds one
    // Task per attempt, and the schema's walk over the payload is most of what that costs).
    const d = parseDict(taskDictSchema, obj, "ERR_INVALID_TASK", "task");
    validated = d;
    try {
      return new Task({ taskId: d.task_id, taskType: d.task_type });
    } finally {
      validated = undefined;
    }
  }

  /** An independent copy (payload and result are deep-copied), fencing token included. */
  clone(): Task {
    const copy = Task.fromDict(structuredClone(this.toDict()));
    copy.#fencingToken = this.#fencingToken;
    return copy;
  }

  private transition(to: TaskStatus, from: TaskStatus[]): void {
    if (!from.includes(this.#status)) throw illegal(this, this.#status, to);
    this.#status = to;
  }

  private clearAttempt(): void {
    this.#startedAt = null;
    this.#completedAt = null;
    this.#result = null;
    this.#error = null;
  }

  private setAssignee(agentId: string | null, fencingToken: number | null): void {
    if (agentId !== null && (typeof agentId !== "string" || agentId.length === 0)) {
      throw new TriadError("ERR_INVALID_TASK", `task ${this.taskId}: an agent id must be a non-empty string`);
    }
    const token = checkToken(fencingToken);
    if (token !== null && this.#fencingToken !== null && token < this.#fencingToken) {
      throw new TriadError(
        "ERR_STALE_FENCING_TOKEN",
        `task ${this.taskId}: fencing token ${token} is older than the current ${this.#fencingToken}`,
        { taskId: this.taskId, token, current: this.#fencingToken },
      );
    }
    this.#assignedTo = agentId;
    this.#fencingToken = token;
  }
}

function illegal(task: Task, from: TaskStatus, to: string, why?: string): TriadError {
  const message = `task ${task.taskId}: cannot go from ${from} to ${to}${why === undefined ? "" : `: ${why}`}`;
  return new TriadError("ERR_ILLEGAL_TRANSITION", message, { taskId: task.taskId, from, to });
}

/** A task that would expire before it may start could never run: refused where it is built. */
function checkScheduleWindow(runAt: string | undefined, expiresAt: string | undefined): void {
  if (runAt === undefined || expiresAt === undefined || Date.parse(expiresAt) > Date.parse(runAt)) return;
  throw new TriadError("ERR_INVALID_TASK", "invalid task.expires_at: must be after run_at", {
    field: "expires_at",
  });
}

function checkToken(token: number | null): number | null {
  if (token === null) return null;
  if (!Number.isSafeInteger(token) || token < 0) {
    throw new TriadError("ERR_INVALID_TASK", `a fencing token must be a non-negative integer (got ${token})`);
  }
  return token;
}

function checkReason(reason: string, method: string): void {
  if (typeof reason !== "string") {
    throw new TriadError("ERR_INVALID_TASK", `${method} needs the reason as a string (got ${typeof reason})`);
  }
}
