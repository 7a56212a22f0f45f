import { isTriadError, TriadError } from "../../core/errors.js";
import type { JsonValue } from "../../core/json.js";
import type { KeysOf } from "../../core/known-keys.js";
import type { Logger } from "../../core/logger.js";
import {
  type AgentReply,
  type MessageNode,
  type MessageState,
  SharedAgentState,
  type Task,
} from "../../core/state/index.js";
import { RedisClient, type RedisConfig } from "../../core/store/index.js";
import { type AgentA2AConfig, TriadAgent } from "../agent-base.js";
import { agentBaseOptions, checkedCount, checkedMs } from "../agent-options.js";
import {
  checkCancelReason,
  checkDistributorRegistration,
  checkIdArgument,
  checkWaitArguments,
  isNonEmptyString,
} from "../call-arguments.js";
import { HeartbeatPace } from "../heartbeat-pace.js";
import { type LedgerOptions, TaskLedger } from "../ledger/task-ledger.js";
import { CoordinatorLimits, type CoordinatorLimitsOptions } from "../limits/coordinator-limits.js";
import type { LimitView, TaskTypeLimit } from "../limits/limit-spec.js";
import { AttemptCanceler } from "../live/attempt-canceler.js";
import { COORDINATOR_NESTED_KEYS } from "../nested-option-keys.js";
import { CoordinatorObserver } from "../observe/coordinator-observer.js";
import type { MessageObserver } from "../observe/message-observer.js";
import { RunState } from "../run-state.js";
import {
  CoordinatorSchedules,
  type CoordinatorSchedulesOptions,
} from "../schedules/coordinator-schedules.js";
import type { ScheduleInput, ScheduleView } from "../schedules/schedule-spec.js";
import { SecondProcessWarnings } from "../second-process.js";
import { logStoreOutages } from "../store-outage-log.js";
import { inTaskOrder } from "../task-order.js";
import {
  DEFAULT_RETRY,
  type RetryPolicies,
  type RetryPolicy,
  resolveTiming,
  type Timing,
} from "../timing.js";
import { validateGraph } from "../workflow/graph-validation.js";
import { CoordinatorCluster } from "./coordinator-cluster.js";
import { CoordinatorControls } from "./coordinator-controls.js";
import { CoordinatorCore, type CoordinatorCoreOptions } from "./coordinator-core.js";
import {
  duplicateOutcome,
  partialSubmitError,
  repeatedIds,
  type SubmitOutcome,
  submitOutcomes,
  withDuplicates,
} from "./submit-outcome.js";
import { type TaskInput, toDict } from "./task-input.js";

export { type TaskInput, toDict } from "./task-input.js";

export type CoordinatorAgentOptions = {
  agentId: string;
  redis?: RedisConfig;
  a2a?: AgentA2AConfig;
  timing?: Partial<Timing>;
  /** Retries of failed tasks per task type (`default` for the rest). */
  retry?: Partial<RetryPolicies>;
  /** A task that no healthy distributor takes within this long ends abandoned. Default 30 s. */
  placementTimeoutMs?: number;
  /** Finished tasks kept in memory for waitForTask and the API. Default 10,000. */
  recentLimit?: number;
  ledger?: LedgerOptions;
  /** Per-task-type limits set at start (`--limit`), and the slot sweep's interval. */
  limits?: CoordinatorLimitsOptions;
  /** Recurring schedules: how often the store is looked at for due ticks at most (default 1 s). */
  schedules?: CoordinatorSchedulesOptions;
  logger?: Logger;
  events?: CoordinatorCoreOptions["events"];
};

/** Every option of the constructor: any other key is refused (a misspelt one was ignored). */
const OPTION_KEYS: KeysOf<CoordinatorAgentOptions> = {
  agentId: true, // checkedId
  redis: "object",
  a2a: "object",
  timing: "object",
  retry: "object",
  placementTimeoutMs: "number",
  recentLimit: "number",
  ledger: "object",
  limits: "object",
  schedules: "object",
  logger: "object",
  events: "object",
};

/** The error of a task canceled by cancelTask (or the A2A CancelTask and REST cancel that use it). */
export const CANCELED_BY_CLIENT = "canceled by client";

/**
 * The coordinator (seed: coordinator/agent.py): accepts tasks, records each in Redis before it
 * says yes, places it on the least-loaded healthy distributor, watches the distributors'
 * heartbeats and moves the tasks of a dead one. After a restart it rebuilds from Redis.
 */
export class CoordinatorAgent extends TriadAgent {
  readonly store: RedisClient;
  readonly ledger: TaskLedger;
  readonly core: CoordinatorCore;
  readonly timing: Timing;
  readonly startedAt = new Date().toISOString();
  /** Warnings of a second process under a distributor's id. */
  private readonly secondProcesses = new SecondProcessWarnings();
  /** Warnings of a distributor that heartbeats no faster than this coordinator's timeout. */
  private readonly heartbeatPace: HeartbeatPace;
  /** Traces, task history and counts for the dashboard and metrics. */
  readonly observer: CoordinatorObserver;
  /** The other coordinators on this store: shard ownership, their distributors, news. */
  readonly cluster: CoordinatorCluster;
  /** Per-task-type limits for the whole cluster (src/agents/limits/). */
  readonly limits: CoordinatorLimits;
  /** Recurring schedules, fired by every coordinator, each tick one task (src/agents/schedules/). */
  readonly schedules: CoordinatorSchedules;
  /** Submits and waits want a coordinator initialized and not cleaned up since. */
  private readonly runState: RunState;
  /** Limits, schedules and input: their calls' checks (CoordinatorControls). */
  private readonly controls: CoordinatorControls;

  constructor(options: CoordinatorAgentOptions) {
    super(agentBaseOptions("CoordinatorAgent", "coordinator", options, OPTION_KEYS, COORDINATOR_NESTED_KEYS));
    this.timing = resolveTiming(options.timing);
    this.heartbeatPace = new HeartbeatPace(this.log, {
      listener: "coordinator",
      peerTier: "distributor",
      heartbeatTimeoutMs: this.timing.heartbeatTimeoutMs,
    });
    this.runState = new RunState(`coordinator ${options.agentId}`);
    this.store = new RedisClient(options.redis ?? {});
    this.ledger = new TaskLedger(this.store, options.ledger);
    this.observer = new CoordinatorObserver({ agentId: this.agentId, store: this.store });
    this.limits = new CoordinatorLimits(this.store, this.ledger, options.limits);
    this.schedules = new CoordinatorSchedules(this.store, (task) => this.submitTask(task), options.schedules);
    logStoreOutages(this.store, this.log, "clients are answered 503");
    const retry = { ...options.retry, default: options.retry?.default ?? DEFAULT_RETRY } as RetryPolicies;
    for (const [type, policy] of Object.entries(retry)) checkPolicy(type, policy);
    // A task abandoned while an attempt ran: its worker is told, so the handler's ctx.signal fires.
    const canceler = new AttemptCanceler({
      ledger: this.ledger,
      send: (to, payload) => this.sendPayload(to, payload),
      unsent: (to, err) =>
        this.log.debug({ distributor: to, err: (err as Error).message }, "could not pass a cancel on"),
    });
    this.cluster = new CoordinatorCluster({
      coordinatorId: this.agentId,
      store: this.store,
      ledger: this.ledger,
      timing: this.timing,
      startedAt: this.startedAt,
      core: () => this.core,
      url: () => this.url,
      apiUrl: () => this.apiUrl,
      learnPeer: (id, url, maxBodyBytes) => this.learnPeer(id, url, maxBodyBytes),
      moved: (change) => this.log.info(change, "task shards moved"),
      reported: () => this.observer.reportedCounts(),
      newsFailed: (err, ids) =>
        this.log.warn(
          { err: (err as Error).message, ids },
          "news to the other coordinators failed; it is sent again",
        ),
    });
    this.core = new CoordinatorCore({
      cluster: this.cluster,
      coordinatorId: this.agentId,
      store: this.store,
      ledger: this.ledger,
      timing: this.timing,
      placementTimeoutMs: checkedMs("placementTimeoutMs", options.placementTimeoutMs ?? 30_000),
      retry,
      recentLimit: checkedCount("recentLimit", options.recentLimit ?? 10_000),
      send: (to, payload) => this.sendPayload(to, payload),
      url: () => this.url,
      events: this.observer.coreEvents({
        ...options.events,
        abandoned: (taskId, reason) => {
          canceler.abandoned(taskId);
          options.events?.abandoned?.(taskId, reason);
        },
        distributorDead: (id, tasks) => {
          this.log.warn({ distributor: id, tasks }, "distributor declared dead; moving its tasks");
          options.events?.distributorDead?.(id, tasks);
        },
        unplacedFound: (taskIds) => {
          this.log.warn(
            { tasks: taskIds.length, ids: taskIds.slice(0, 10) },
            "open tasks found pending on no distributor and held nowhere; placing them",
          );
          options.events?.unplacedFound?.(taskIds);
        },
        unsendable: (taskId, reason) => {
          this.log.warn({ task: taskId, reason }, "task cannot be sent; abandoning it");
          options.events?.unsendable?.(taskId, reason);
        },
        foreignReport: (task, from, holder) => {
          const detail = `end of task ${task.task_id} reported by ${from}, which does not hold it (${holder ?? "no distributor"} does)`;
          this.a2a.refuseUnauthorized({ sender: from, requestId: null, detail });
          options.events?.foreignReport?.(task, from, holder);
        },
      }),
    });
    const { runState, limits, schedules } = this;
    this.controls = new CoordinatorControls({ runState, limits, schedules, input: this.core });
  }

  override async initialize(): Promise<boolean> {
    await super.initialize();
    if (!(await this.store.connect())) {
      throw this.store.unreachable(`coordinator ${this.agentId}`);
    }
    // Its distributors are other processes, reached in messages of a bounded size: an input that
    // would make a task too large for one is refused (the in-process router has no such limit).
    if ((await this.startTransport()) !== null) this.core.input.limitTaskSize(this.a2a.maxBodyBytes);
    // Takes its share of the task shards (all of them when alone), rescanning each, as restore() did.
    await this.cluster.start();
    await this.core.workflow.rewatchWaiting().catch(() => {});
    await this.limits.start();
    this.core.start();
    this.schedules.start();
    this.runState.start();
    return true;
  }

  /**
   * Records a recurring schedule, or replaces the one of that id (the same one again changes
   * nothing); answers it as stored. Each tick makes one task, id `<schedule_id>@<tick ISO>`.
   */
  upsertSchedule(schedule: ScheduleInput): Promise<ScheduleView> {
    return this.controls.upsertSchedule(schedule);
  }

  /** Removes a schedule: no tick fires after this. False when there was none. */
  removeSchedule(scheduleId: string): Promise<boolean> {
    return this.controls.removeSchedule(scheduleId);
  }

  /** A schedule with its next run times and recent task ids; null when unknown. */
  getSchedule(scheduleId: string): Promise<ScheduleView | null> {
    return this.controls.getSchedule(scheduleId);
  }

  listSchedules(): Promise<ScheduleView[]> {
    return this.controls.listSchedules();
  }

  /** Sets the limit of a task type for the whole cluster (every distributor is told before this answers); true when it replaced one. */
  setLimit(taskType: string, limit: TaskTypeLimit): Promise<boolean> {
    return this.controls.setLimit(taskType, limit);
  }

  /** Removes a task type's limit; false when it had none. */
  removeLimit(taskType: string): Promise<boolean> {
    return this.controls.removeLimit(taskType);
  }

  /** Every limit, with its slots in use and its tasks waiting over the whole cluster. */
  listLimits(): Promise<LimitView[]> {
    return this.controls.listLimits();
  }

  /**
   * Where other coordinators reach this one's REST API (set by whoever serves it: triad
   * coordinator, startCoordinatorServer, whose close() sets it back to null); published in its
   * view for cluster-wide task lists.
   */
  apiUrl: string | null = null;

  /** Where other processes reach this coordinator's A2A listener, if it listens. */
  get url(): string | null {
    return this.a2a.url;
  }

  /**
   * Records the task in Redis and places it on a healthy distributor. True once it is recorded;
   * false for an id already recorded (nothing changes: the id is the idempotency key).
   */
  submitTask(task: TaskInput): Promise<boolean> {
    // Not an async function: one promise less on the path a lone caller waits on, every call.
    try {
      const refused = this.runState.refusal("submitTask");
      if (refused !== null) throw refused;
      const dict = toDict(task);
      if (dict.depends_on !== undefined) {
        return validateGraph([dict], this.knownTasks).then(() =>
          this.observer.traceSubmit([dict], () => this.core.submit(dict)),
        );
      }
      if (this.observer.tracesSubmits) return this.observer.traceSubmit([dict], () => this.core.submit(dict));
      // No span to make: nothing wraps the core's promise (the caller's next step is one hop nearer).
      this.observer.submitting(dict.task_id);
      return this.core.submit(dict);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Submits many tasks in one go (one Redis script call per shard records them all): one
   * boolean per task, as submitTask would answer. A task whose id an earlier task of the same
   * call has is not submitted (false; submitTasksSettled says ERR_DUPLICATE_TASK_ID). Every task is validated before any is
   * recorded, so a bad one rejects the whole call and records nothing. When the store fails
   * for some tasks only (a Redis Cluster shard down), the others are recorded and the call
   * rejects with what happened to each in `err.details.outcomes` (see submitTasksSettled).
   */
  async submitTasks(tasks: TaskInput[]): Promise<boolean[]> {
    const { outcomes, failures } = await this.submitSettled(tasks);
    if (failures.length > 0) throw partialSubmitError(outcomes, failures);
    return outcomes.map((o) => "created" in o && o.created);
  }

  /**
   * submitTasks, each task told on its own instead of a rejection: `{ task_id, created }` or
   * `{ task_id, error }` (not recorded; code ERR_DUPLICATE_TASK_ID for a later task with an
   * earlier one's id, which was not submitted). Rejects only for invalid input (nothing recorded then).
   */
  async submitTasksSettled(tasks: TaskInput[]): Promise<SubmitOutcome[]> {
    return (await this.submitSettled(tasks)).outcomes;
  }

  private async submitSettled(tasks: TaskInput[]): Promise<ReturnType<typeof submitOutcomes>> {
    const refused = this.runState.refusal("submitTasks");
    if (refused !== null) throw refused;
    if (!Array.isArray(tasks))
      throw new TriadError("ERR_INVALID_TASK", "submitTasks takes an array of tasks");
    const dicts = tasks.map((task, i) => {
      try {
        return toDict(task);
      } catch (err) {
        throw new TriadError(
          isTriadError(err) ? err.code : "ERR_INVALID_TASK",
          `tasks[${i}]: ${(err as Error).message}`,
        );
      }
    });
    // A later task with an earlier one's id is not submitted: it is answered as a duplicate.
    const ids = dicts.map((d) => d.task_id);
    const repeated = repeatedIds(ids);
    const firsts = repeated.size === 0 ? dicts : dicts.filter((_, i) => !repeated.has(i));
    await validateGraph(firsts, this.knownTasks);
    const settled = await this.observer.traceSubmit(firsts, () => this.core.submitEach(firsts));
    const { outcomes, failures } = submitOutcomes(
      firsts.map((d) => d.task_id),
      settled,
    );
    return { outcomes: withDuplicates(ids, repeated, outcomes, duplicateOutcome), failures };
  }

  /** Whether each id names a recorded task (what a graph's outside dependencies must be). */
  private readonly knownTasks = async (ids: string[]): Promise<boolean[]> =>
    (await Promise.all(ids.map((id) => this.ledger.status(id)))).map((s) => s !== null);

  /** Places the task on this distributor (seed: assign_task_to_distributor). */
  async assignTaskToDistributor(task: TaskInput, distributorId: string): Promise<boolean> {
    this.runState.assertRunning("assignTaskToDistributor");
    checkIdArgument("assignTaskToDistributor", "distributorId", distributorId);
    const dict = toDict(task);
    return this.observer.traceSubmit([dict], () => this.core.assignTaskToDistributor(dict, distributorId));
  }

  /**
   * Resolves with the terminal task dict, or null when `timeoutMs` passes first (0: the task as it
   * ended, or null at once). A taskId that is not a non-empty string, or a timeoutMs that is not a
   * number >= 0, rejects with ERR_INVALID_ARGUMENT.
   */
  waitForTask(taskId: string, timeoutMs = 30_000): Promise<AgentReply | null> {
    // Not an async function, like submitTask: called once per task, it costs a promise less.
    try {
      const refused = this.runState.refusal("waitForTask");
      if (refused !== null) throw refused;
      checkWaitArguments(taskId, timeoutMs);
      return this.core.waitForTask(taskId, timeoutMs) as Promise<AgentReply | null>;
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /**
   * Cancels an open task: it ends `abandoned` with the error "canceled by client" (or `reason`),
   * and the result of an attempt still running is refused by its fence. True when this call
   * ended the task; false for a task already finished (left as it is) or unknown.
   */
  async cancelTask(taskId: string, reason: string = CANCELED_BY_CLIENT): Promise<boolean> {
    this.runState.assertRunning("cancelTask");
    if (!isNonEmptyString(taskId))
      throw new TriadError("ERR_INVALID_ARGUMENT", "cancelTask takes a task id (a non-empty string)");
    checkCancelReason(reason);
    return (await this.core.cancel(taskId, reason))?.canceled ?? false;
  }

  /**
   * Gives input to a task waiting for it (status input_required; SPEC "Waiting for input"): the
   * value joins the task's inputs and it runs again on any worker. True when given; false for a
   * task that is not waiting for input (already answered, say: the first answer wins) or
   * unknown. A value that is not JSON is refused (ERR_INVALID_INPUT). `options.question` names
   * the question answered — how many inputs had been given when it was asked (the length of the
   * task's `inputs` then) — so that an answer to a question already answered is refused even when
   * the task now asks the next one.
   */
  provideInput(taskId: string, value: JsonValue, options: { question?: number } = {}): Promise<boolean> {
    return this.controls.provideInput(taskId, value, options);
  }

  /**
   * Knows a distributor before it heartbeats (seed: register_distributor). `options.maxBodyBytes`:
   * the body limit it takes, as its heartbeats' max_body_bytes states it (assignments to it are
   * split to fit from the start); left out, a limit it stated before is kept.
   */
  async registerDistributor(
    distributorId: string,
    url?: string,
    options: { maxBodyBytes?: number } = {},
  ): Promise<boolean> {
    this.runState.assertRunning("registerDistributor");
    checkDistributorRegistration(distributorId, url, options);
    const { maxBodyBytes } = options;
    if (url) this.learnPeer(distributorId, url, maxBodyBytes, true);
    await this.core.onRegister(distributorId, url ?? null, maxBodyBytes);
    return true;
  }

  /** The SharedAgentState the distributor keeps in Redis (seed: get_distributor_state). */
  async getDistributorState(distributorId: string): Promise<SharedAgentState | null> {
    const dict = await this.store.get(
      `shared-state:${checkIdArgument("getDistributorState", "distributorId", distributorId)}`,
    );
    return dict === null ? null : SharedAgentState.fromDict(dict);
  }

  /** One monitor tick (seed: monitor_distributors); also runs on its own every monitorIntervalMs. */
  async monitorDistributors(): Promise<void> {
    await this.core.monitorDistributors();
  }

  async executeTask(_task: Task): Promise<AgentReply> {
    return {
      status: "error",
      error: "the coordinator does not execute tasks; it hands them to distributors",
    };
  }

  /**
   * A distributor's message from a second process under its id (DistributorDirectory.
   * otherProcess): not taken, and warned of now and then (SecondProcessWarnings).
   */
  private otherProcess(distributorId: string, url: string | null, ownsLease: boolean): boolean {
    const { directory } = this.core;
    if (!directory.otherProcess(distributorId, url, ownsLease, this.timing.heartbeatTimeoutMs)) return false;
    if (this.secondProcesses.due(distributorId)) {
      this.log.warn(
        { distributor: distributorId, url, runs_at: directory.get(distributorId)?.url ?? null },
        "a second process under this distributor id waits for its lease: it is not listed nor sent tasks while the first holds it (give each distributor its own --id)",
      );
    }
    return true;
  }

  protected override messageNodes(): Record<string, MessageNode> {
    return {
      heartbeat: (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind === "distributor_status" && this.speaksAs(s.message, "distributor")) {
          if (this.otherProcess(s.message.sender, p.url, p.owns_lease)) return {};
          this.observer.heartbeatTaken(s.message, p);
          this.heartbeatPace.heard(s.message.sender, p.heartbeat_interval_ms);
          // One that states no limit (an older release's) keeps what was stated, by registration too.
          const limit = p.max_body_bytes ?? this.core.directory.get(s.message.sender)?.maxBodyBytes;
          if (p.url) this.learnPeer(s.message.sender, p.url, limit);
          this.core.onHeartbeat(s.message.sender, p, Date.parse(s.message.metadata.timestamp));
        }
        return {};
      },
      "event.register_distributor": async (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "register_distributor" || !this.speaksAs(s.message, "distributor")) return {};
        if (this.otherProcess(s.message.sender, p.url, false)) return {};
        if (p.url) this.learnPeer(s.message.sender, p.url, p.max_body_bytes, true);
        await this.core.onRegister(s.message.sender, p.url, p.max_body_bytes);
        this.log.info({ distributor: s.message.sender, url: p.url }, "distributor registered");
        return { history: { event: "distributor_registered", distributor: s.message.sender } };
      },
      // Tasks of a type none of the sender's live workers runs (./type-hand-back.ts).
      // Answered when settled (it may wait for heartbeats: not in this handler, which would hold them up).
      "request.hand_back": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "hand_back" || !this.speaksAs(s.message, "distributor")) return {};
        const { sender, metadata } = s.message;
        void this.core
          .handBack(sender, p.tasks)
          .then(({ moved, waiting, elsewhere }) =>
            this.a2a.sendResponse(sender, metadata.request_id, { moved, waiting, elsewhere }, true),
          )
          .catch((err: unknown) => this.log.debug({ err: (err as Error).message }, "hand-back not answered"));
        return {};
      },
      "event.task_terminal": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind === "task_terminal" && this.speaksAs(s.message, "distributor"))
          this.core.onTerminal(s.message.sender, p.tasks.map(inTaskOrder), p.spawns);
        return {};
      },
    };
  }

  protected override messageObserver(): MessageObserver {
    return this.observer;
  }

  /**
   * Assignments go to distributors without a copy in one process: their task dicts are built
   * here (a submitted payload copied on its way in, see validDict; the rest read from the store)
   * and not changed after.
   */
  protected override handsOver(kind: string): boolean {
    return kind === "assign_tasks";
  }

  protected override fastRoutes(): string[] {
    return ["heartbeat", "event.task_terminal"];
  }

  /**
   * `maxBodyBytes`: the body limit the distributor says it takes (max_body_bytes), if it says:
   * an assignment over it is split before it leaves, not refused by the distributor (413) first.
   * One that never said (an older release) is found out by its 413s, as before. A
   * `registration` that does not say keeps what its heartbeats said (the URL unchanged).
   */
  private learnPeer(agentId: string, url: string, maxBodyBytes?: number, registration = false): void {
    if (this.a2a.peerUrl(agentId) !== url) this.a2a.setPeer(agentId, url);
    if (!registration || maxBodyBytes !== undefined) this.a2a.setPeerLimit(agentId, maxBodyBytes);
  }

  override async cleanup(): Promise<void> {
    this.runState.stop();
    this.limits.stop();
    this.schedules.stop();
    this.core.stop();
    await this.cluster.stop().catch(() => {});
    await super.cleanup();
    await this.store.disconnect();
  }
}

function checkPolicy(type: string, policy: RetryPolicy): void {
  const ok =
    Number.isInteger(policy?.maxRetries) &&
    policy.maxRetries >= 0 &&
    Number.isFinite(policy?.backoffMs) &&
    policy.backoffMs >= 0;
  if (!ok) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `retry.${type} needs maxRetries (integer >= 0) and backoffMs (>= 0)`,
    );
  }
}
