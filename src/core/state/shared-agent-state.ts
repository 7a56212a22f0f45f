import { z } from "zod";
import { TriadError } from "../errors.js";
import { checkKnownKeys, type KeysOf } from "../known-keys.js";
import { optionsObject } from "../option-kinds.js";
import {
  type SharedLease,
  SharedStateAnnotation,
  type SharedStateUpdate,
  type SharedStateValues,
} from "./annotations.js";
import {
  mergeTasksInto,
  mergeWorkersInto,
  overwriteOf,
  type TaskChange,
  type WorkerChange,
} from "./reducers.js";
import { AgentStatus } from "./status.js";
import { Task, type TaskUpdates } from "./task.js";
import { type TaskDict, taskDictSchema } from "./task-schema.js";
import { agentStatusSchema, isoTimestamp, parseDict } from "./validation.js";

/** SharedAgentState as JSON: exactly the keys of the seed's "State Models". */
export type SharedAgentStateDict = {
  coordinator_version: string;
  distributor_version: string;
  status: AgentStatus;
  assigned_workers: string[];
  tasks: TaskDict[];
  lease: SharedLease | null;
};

export type SharedAgentStateInit = {
  coordinatorVersion?: string;
  distributorVersion?: string;
  status?: AgentStatus;
  lease?: SharedLease | null;
};

/** Its keys: a misspelt one (`coordinatorVerison`) was ignored. */
const INIT_KEYS: KeysOf<SharedAgentStateInit> = {
  coordinatorVersion: "string",
  distributorVersion: "string",
  status: "string",
  lease: "object|null",
};

const leaseSchema = z.strictObject({
  owner: z.string().min(1, "must be a non-empty string"),
  acquired_at: isoTimestamp,
  expires_at: isoTimestamp,
});

const dictSchema = z.strictObject({
  coordinator_version: z.string().optional(),
  distributor_version: z.string().optional(),
  status: z.enum(AgentStatus).optional(),
  assigned_workers: z.array(z.string().min(1, "must be a non-empty string")).optional(),
  tasks: z.array(taskDictSchema).optional(),
  lease: leaseSchema.nullable().optional(),
});

/**
 * The state a coordinator and a distributor share through Redis (seed: SharedAgentState): a
 * value of SharedStateAnnotation, changed by updates folded in with its reducers (workers form
 * a set, tasks merge by id). Whoever writes it holds the shared-state lease.
 */
export class SharedAgentState {
  static readonly annotation = SharedStateAnnotation;
  #coordinatorVersion: string;
  #distributorVersion: string;
  #status: AgentStatus;
  readonly #workers: string[] = [];
  readonly #tasks = new Map<string, Task>();
  #lease: SharedLease | null;

  constructor(init: SharedAgentStateInit = {}) {
    optionsObject("new SharedAgentState()", init);
    checkKnownKeys("new SharedAgentState()", init, INIT_KEYS);
    this.#coordinatorVersion = init.coordinatorVersion ?? "v1";
    this.#distributorVersion = init.distributorVersion ?? "v1";
    // Options, so ERR_INVALID_CONFIG like the checks above (a status of 5 was that, "asleep" ERR_INVALID_STATE).
    this.#status = parseDict(
      agentStatusSchema,
      init.status ?? AgentStatus.IDLE,
      "ERR_INVALID_CONFIG",
      "status",
    );
    this.#lease = init.lease ? parseDict(leaseSchema, init.lease, "ERR_INVALID_CONFIG", "lease") : null;
  }

  get coordinatorVersion(): string {
    return this.#coordinatorVersion;
  }
  get distributorVersion(): string {
    return this.#distributorVersion;
  }
  get status(): AgentStatus {
    return this.#status;
  }
  get assignedWorkers(): readonly string[] {
    return this.#workers;
  }
  get tasks(): ReadonlyMap<string, Task> {
    return this.#tasks;
  }
  get lease(): SharedLease | null {
    return this.#lease;
  }

  /** The state as SharedStateAnnotation values (live references: do not mutate). */
  get values(): SharedStateValues {
    return {
      coordinator_version: this.#coordinatorVersion,
      distributor_version: this.#distributorVersion,
      status: this.#status,
      assigned_workers: this.#workers,
      tasks: this.#tasks,
      lease: this.#lease,
    };
  }

  /** Folds a LangGraph update into the state, with the annotation's reducers. */
  apply(update: SharedStateUpdate): void {
    if (update.coordinator_version !== undefined) this.#coordinatorVersion = update.coordinator_version;
    if (update.distributor_version !== undefined) this.#distributorVersion = update.distributor_version;
    if (update.status !== undefined) this.#status = checkStatus(update.status);
    if (update.lease !== undefined) this.#lease = checkLease(update.lease);
    if (update.assigned_workers !== undefined) {
      const replace = overwriteOf<string[]>(update.assigned_workers);
      if (replace !== undefined) this.#workers.length = 0;
      mergeWorkersInto(this.#workers, replace ? replace.value : (update.assigned_workers as WorkerChange[]));
    }
    if (update.tasks !== undefined) {
      const replace = overwriteOf<Map<string, Task>>(update.tasks);
      if (replace !== undefined) this.#tasks.clear();
      mergeTasksInto(this.#tasks, replace ? [...replace.value.values()] : (update.tasks as TaskChange[]));
    }
  }

  /** Adds a worker to the pool; false when it was already there. */
  assignWorker(workerId: string): boolean {
    checkId(workerId, "assignWorker");
    if (this.#workers.includes(workerId)) return false;
    this.apply({ assigned_workers: workerId });
    return true;
  }

  /** Takes a worker out of the pool; false when it was not there. */
  removeWorker(workerId: string): boolean {
    if (!this.#workers.includes(workerId)) return false;
    this.apply({ assigned_workers: { remove: workerId } });
    return true;
  }

  addTask(task: Task): void {
    if (!(task instanceof Task)) throw new TriadError("ERR_INVALID_STATE", "addTask needs a Task");
    this.apply({ tasks: task });
  }

  updateTask(taskId: string, updates: TaskUpdates): boolean {
    const task = this.#tasks.get(taskId);
    if (task === undefined) return false;
    task.update(updates);
    this.apply({ tasks: task });
    return true;
  }

  getTask(taskId: string): Task | undefined {
    return this.#tasks.get(taskId);
  }

  removeTask(taskId: string): boolean {
    const had = this.#tasks.has(taskId);
    this.apply({ tasks: { remove: taskId } });
    return had;
  }

  setStatus(status: AgentStatus): void {
    this.apply({ status });
  }

  /** Records who holds the shared-state lease (a LeaseInfo from the store fits; its token is not kept). */
  setLease(lease: SharedLease | null): void {
    this.apply({
      lease:
        lease === null
          ? null
          : { owner: lease.owner, acquired_at: lease.acquired_at, expires_at: lease.expires_at },
    });
  }

  toDict(): SharedAgentStateDict {
    return {
      coordinator_version: this.#coordinatorVersion,
      distributor_version: this.#distributorVersion,
      status: this.#status,
      assigned_workers: this.#workers.slice(),
      tasks: Array.from(this.#tasks.values(), (t) => t.toDict()),
      lease: this.#lease === null ? null : { ...this.#lease },
    };
  }

  toJSON(): SharedAgentStateDict {
    return this.toDict();
  }

  /** Validates `obj` (ERR_INVALID_STATE names the bad field) and rebuilds the state. */
  static fromDict(obj: unknown): SharedAgentState {
    const d = parseDict(dictSchema, obj, "ERR_INVALID_STATE", "shared_agent_state");
    const state = new SharedAgentState({
      coordinatorVersion: d.coordinator_version,
      distributorVersion: d.distributor_version,
      status: d.status,
      lease: d.lease ?? null,
    });
    state.apply({
      assigned_workers: d.assigned_workers ?? [],
      tasks: (d.tasks ?? []).map((t) => Task.fromDict(t)),
    });
    return state;
  }
}

function checkStatus(status: AgentStatus): AgentStatus {
  return parseDict(agentStatusSchema, status, "ERR_INVALID_STATE", "status");
}

function checkLease(lease: SharedLease | null): SharedLease | null {
  return lease === null ? null : parseDict(leaseSchema, lease, "ERR_INVALID_STATE", "lease");
}

function checkId(id: string, method: string): void {
  if (typeof id !== "string" || id.length === 0) {
    throw new TriadError("ERR_INVALID_STATE", `${method} needs a non-empty id (got ${JSON.stringify(id)})`);
  }
}
