import { z } from "zod";
import { TriadError } from "../errors.js";
import { assertJson, isPlainObject, type JsonObject, type JsonValue } from "../json.js";
import { checkKnownKeys, type KeysOf } from "../known-keys.js";
import { optionsObject, shownValue } from "../option-kinds.js";
import { LocalStateAnnotation, type LocalStateUpdate, type LocalStateValues } from "./annotations.js";
import {
  appendHistoryInto,
  DEFAULT_HISTORY_LIMIT,
  type HistoryEntry,
  mergeObjects,
  mergeTasksInto,
  overwriteOf,
  type TaskChange,
} from "./reducers.js";
import { AgentStatus } from "./status.js";
import { Task, type TaskUpdates } from "./task.js";
import { type TaskDict, taskDictSchema } from "./task-schema.js";
import { agentStatusSchema, isoTimestamp, jsonObject, parseDict, utcNow } from "./validation.js";

/** LocalAgentState as JSON: exactly the keys of the seed's "State Models". */
export type LocalAgentStateDict = {
  agent_id: string;
  status: AgentStatus;
  local_tasks: TaskDict[];
  last_heartbeat: string;
  local_vars: JsonObject;
  history: HistoryEntry[];
  metadata: JsonObject;
};

export type LocalAgentStateInit = {
  agentId: string;
  status?: AgentStatus;
  /** How many history entries are kept (the newest); default 1000. */
  historyLimit?: number;
};

/** Its keys: a misspelt one (`historylimit`) was ignored. */
const INIT_KEYS: KeysOf<LocalAgentStateInit> = {
  agentId: "string",
  status: "string",
  historyLimit: "number",
};

const WHAT = "new LocalAgentState()";

const dictSchema = z.strictObject({
  agent_id: z.string().min(1, "must be a non-empty string"),
  status: z.enum(AgentStatus).optional(),
  local_tasks: z.array(taskDictSchema).optional(),
  last_heartbeat: isoTimestamp.optional(),
  local_vars: jsonObject.optional(),
  history: z.array(jsonObject).optional(),
  metadata: jsonObject.optional(),
});

/**
 * One agent's own state (seed: LocalAgentState): a value of LocalStateAnnotation, the LangGraph
 * state an agent's message graph runs over. Every change is an update folded in with the
 * annotation's reducers (apply), and the seed's methods are such updates.
 */
export class LocalAgentState {
  static readonly annotation = LocalStateAnnotation;
  readonly agentId: string;
  readonly historyLimit: number;
  #status: AgentStatus;
  #lastHeartbeat: string;
  readonly #tasks = new Map<string, Task>();
  #vars: JsonObject = {};
  readonly #history: HistoryEntry[] = [];
  #metadata: JsonObject = {};

  /** Wrong options are ERR_INVALID_CONFIG, as every constructor's (they were ERR_INVALID_STATE, or either). */
  constructor(init: LocalAgentStateInit) {
    optionsObject(WHAT, init);
    if (typeof init.agentId !== "string" || init.agentId.length === 0) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${WHAT}: option agentId must be a non-empty string (got ${shownValue(init.agentId)})`,
        { option: "agentId" },
      );
    }
    checkKnownKeys(WHAT, init, INIT_KEYS);
    const limit = init.historyLimit ?? DEFAULT_HISTORY_LIMIT;
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${WHAT}: option historyLimit must be a positive integer (got ${shownValue(limit)})`,
        { option: "historyLimit" },
      );
    }
    this.agentId = init.agentId;
    this.historyLimit = limit;
    this.#status = parseDict(
      agentStatusSchema,
      init.status ?? AgentStatus.IDLE,
      "ERR_INVALID_CONFIG",
      "status",
    );
    this.#lastHeartbeat = utcNow();
  }

  get status(): AgentStatus {
    return this.#status;
  }
  get lastHeartbeat(): string {
    return this.#lastHeartbeat;
  }
  /** The tasks by id, in the order they were first added. Read-only: change them through the methods. */
  get tasks(): ReadonlyMap<string, Task> {
    return this.#tasks;
  }
  get history(): readonly HistoryEntry[] {
    return this.#history;
  }

  /** The state as LocalStateAnnotation values (live references: do not mutate). */
  get values(): LocalStateValues {
    return {
      agent_id: this.agentId,
      status: this.#status,
      local_tasks: this.#tasks,
      last_heartbeat: this.#lastHeartbeat,
      local_vars: this.#vars,
      history: this.#history,
      metadata: this.#metadata,
    };
  }

  /** Folds a LangGraph update (what a node returns) into the state, with the annotation's reducers. */
  apply(update: LocalStateUpdate): void {
    if (update.agent_id !== undefined && update.agent_id !== this.agentId) {
      throw new TriadError(
        "ERR_INVALID_STATE",
        `the state of ${this.agentId} cannot take an update for ${update.agent_id}`,
      );
    }
    if (update.status !== undefined) this.#status = checkStatus(update.status);
    if (update.last_heartbeat !== undefined) this.#lastHeartbeat = update.last_heartbeat;
    if (update.local_tasks !== undefined) {
      const replace = overwriteOf<Map<string, Task>>(update.local_tasks);
      if (replace !== undefined) this.#tasks.clear();
      mergeTasksInto(
        this.#tasks,
        replace ? [...replace.value.values()] : (update.local_tasks as TaskChange[]),
      );
    }
    if (update.local_vars !== undefined) this.#vars = mergeOrReplace(this.#vars, update.local_vars);
    if (update.history !== undefined) {
      const replace = overwriteOf<HistoryEntry[]>(update.history);
      if (replace !== undefined) this.#history.length = 0;
      appendHistoryInto(
        this.#history,
        replace ? replace.value : (update.history as HistoryEntry | HistoryEntry[]),
        this.historyLimit,
      );
    }
    if (update.metadata !== undefined) this.#metadata = mergeOrReplace(this.#metadata, update.metadata);
  }

  addTask(task: Task): void {
    if (!(task instanceof Task)) throw new TriadError("ERR_INVALID_STATE", "addTask needs a Task");
    this.apply({ local_tasks: task });
  }

  /** Applies `updates` to the task (lifecycle rules included); false when there is no such task. */
  updateTask(taskId: string, updates: TaskUpdates): boolean {
    const task = this.#tasks.get(taskId);
    if (task === undefined) return false;
    task.update(updates);
    this.apply({ local_tasks: task });
    return true;
  }

  getTask(taskId: string): Task | undefined {
    return this.#tasks.get(taskId);
  }

  /** Forgets a task (once its outcome is committed elsewhere); false when there was none. */
  removeTask(taskId: string): boolean {
    const had = this.#tasks.has(taskId);
    this.apply({ local_tasks: { remove: taskId } });
    return had;
  }

  setLocalVar(key: string, value: JsonValue): void {
    if (typeof key !== "string")
      throw new TriadError("ERR_INVALID_STATE", `setLocalVar needs a string key (got ${shownValue(key)})`);
    assertJson(value, `local var ${key}`);
    this.apply({ local_vars: { [key]: value } });
  }

  getLocalVar(key: string): JsonValue | undefined {
    return Object.hasOwn(this.#vars, key) ? this.#vars[key] : undefined;
  }

  /** Appends an event to the history (stamped with `timestamp` unless it has one); old entries fall off. */
  addHistoryEntry(entry: JsonObject): void {
    // 5 was a TypeError ("Cannot use 'in' operator"); an array was stamped as if it were an entry.
    if (!isPlainObject(entry))
      throw new TriadError(
        "ERR_INVALID_STATE",
        `a history entry must be an object (got ${shownValue(entry)})`,
      );
    assertJson(entry, "history entry");
    this.apply({ history: "timestamp" in entry ? entry : { ...entry, timestamp: utcNow() } });
  }

  setStatus(status: AgentStatus): void {
    this.apply({ status });
  }

  /** Marks the agent alive now (last_heartbeat). */
  updateTimestamp(): void {
    this.apply({ last_heartbeat: utcNow() });
  }

  setMetadata(key: string, value: JsonValue): void {
    assertJson(value, `metadata ${key}`);
    this.apply({ metadata: { [key]: value } });
  }

  toDict(): LocalAgentStateDict {
    return {
      agent_id: this.agentId,
      status: this.#status,
      local_tasks: Array.from(this.#tasks.values(), (t) => t.toDict()),
      last_heartbeat: this.#lastHeartbeat,
      local_vars: this.#vars,
      history: this.#history.slice(),
      metadata: this.#metadata,
    };
  }

  toJSON(): LocalAgentStateDict {
    return this.toDict();
  }

  /** Validates `obj` (ERR_INVALID_STATE names the bad field, e.g. local_tasks[2].status) and rebuilds the state. */
  static fromDict(obj: unknown, options: { historyLimit?: number } = {}): LocalAgentState {
    const d = parseDict(dictSchema, obj, "ERR_INVALID_STATE", "local_agent_state");
    const state = new LocalAgentState({ agentId: d.agent_id, ...options });
    state.apply({
      status: d.status ?? AgentStatus.IDLE,
      local_tasks: (d.local_tasks ?? []).map((t) => Task.fromDict(t)),
      last_heartbeat: d.last_heartbeat ?? state.lastHeartbeat,
      local_vars: d.local_vars ?? {},
      history: d.history ?? [],
      metadata: d.metadata ?? {},
    });
    return state;
  }
}

function mergeOrReplace(current: JsonObject, update: JsonObject | { __overwrite__: JsonObject }): JsonObject {
  const replace = overwriteOf<JsonObject>(update);
  return replace !== undefined ? { ...replace.value } : mergeObjects(current, update as JsonObject);
}

function checkStatus(status: AgentStatus): AgentStatus {
  return parseDict(agentStatusSchema, status, "ERR_INVALID_STATE", "status");
}
