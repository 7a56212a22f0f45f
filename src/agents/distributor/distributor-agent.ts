import type { JsonValue } from "../../core/json.js";
import type { KeysOf } from "../../core/known-keys.js";
import type { Logger } from "../../core/logger.js";
import {
  type AgentReply,
  AgentStatus,
  type MessageNode,
  type MessageState,
  SharedAgentState,
  StoreCheckpointSaver,
  Task,
} from "../../core/state/index.js";
import { RedisClient, type RedisConfig } from "../../core/store/index.js";
import { type AgentA2AConfig, TriadAgent } from "../agent-base.js";
import { agentBaseOptions, checkedCount, checkedId, checkedMs } from "../agent-options.js";
import { checkIdArgument, checkWorkerRegistration } from "../call-arguments.js";
import { HeartbeatPace } from "../heartbeat-pace.js";
import { type LedgerOptions, TaskLedger } from "../ledger/task-ledger.js";
import { LimitGate, type LimitGateOptions } from "../limits/limit-gate.js";
import { LimitStore } from "../limits/limit-store.js";
import { cancelTargets } from "../live/cancel-targets.js";
import { ProgressWriter } from "../live/progress-writer.js";
import { checkedCoordinators, DISTRIBUTOR_NESTED_KEYS } from "../nested-option-keys.js";
import { DistributorObserver } from "../observe/distributor-observer.js";
import type { MessageObserver } from "../observe/message-observer.js";
import type { AttemptCancelWire, TaskDict } from "../protocol.js";
import { SecondProcessWarnings } from "../second-process.js";
import { logStoreOutages } from "../store-outage-log.js";
import { resolveTiming, type Timing } from "../timing.js";
import { UpstreamJoin } from "../upstream-join.js";
import { UpstreamSilence } from "../upstream-silence.js";
import { serveFetch } from "../workflow/dependency-fetch.js";
import { dependencyOutcomes } from "../workflow/dependency-outcomes.js";
import { agentEvents } from "./agent-events.js";
import { CheckpointIntake } from "./checkpoint-intake.js";
import { expireEndedThreads } from "./checkpoint-retention.js";
import { type CoordinatorAddress, CoordinatorFailover } from "./coordinator-failover.js";
import { DistributorCore, type DistributorEvents } from "./distributor-core.js";
import { askHandBack, warnUnansweredOnce } from "./hand-back-asks.js";
import { LeaseStandby } from "./lease-standby.js";

/** How often the distributor looks for checkpoints of tasks that ended (expireEndedCheckpoints). */
const CHECKPOINT_SWEEP_MS = 60_000;
/** The lease one distributor takes for a sweep (held 50 s: the next minute's goes to whoever asks first). */
const CHECKPOINT_SWEEP_LEASE = "checkpoint-retention";

export type DistributorAgentOptions = {
  agentId: string;
  coordinatorId: string;
  redis?: RedisConfig;
  a2a?: AgentA2AConfig;
  /** The coordinator's A2A URL when it runs in another process. */
  coordinatorUrl?: string;
  /** More coordinators of the same store, tried in turn when the current one stops answering heartbeats. */
  coordinators?: CoordinatorAddress[];
  timing?: Partial<Timing>;
  /** Time one attempt may take on a worker. Default 30 s. */
  taskTimeoutMs?: number;
  /** Capacity assumed for a worker until it says. Default 16. */
  workerCapacity?: number;
  ledger?: LedgerOptions;
  /** Per-task-type limits: how often they are read again (default 2 s), how often a full type is asked again, who hears the types limited. */
  limits?: Pick<LimitGateOptions, "refreshMs" | "fullRetryMs" | "limitedTypesChanged">;
  logger?: Logger;
  events?: DistributorEvents;
};

/** Every option of the constructor: any other key is refused (a misspelt one was ignored). */
const OPTION_KEYS: KeysOf<DistributorAgentOptions> = {
  agentId: true, // checkedId
  coordinatorId: true, // checkedId
  redis: "object",
  a2a: "object",
  coordinatorUrl: "string",
  coordinators: "array",
  timing: "object",
  taskTimeoutMs: "number",
  workerCapacity: "number",
  ledger: "object",
  limits: "object",
  logger: "object",
  events: "object",
};

/**
 * The distributor (seed: distributor/agent.py): receives tasks from the coordinator, runs them
 * on its workers, watches their heartbeats, commits outcomes through fenced Redis scripts and
 * reports them. It keeps the seed's SharedAgentState in Redis under its lease, and acts only
 * while it holds that lease.
 */
export class DistributorAgent extends TriadAgent {
  /** The coordinators it may report to; it heartbeats one at a time. */
  private readonly failover: CoordinatorFailover;
  readonly store: RedisClient;
  readonly ledger: TaskLedger;
  readonly core: DistributorCore;
  readonly checkpoints: StoreCheckpointSaver;
  readonly sharedState = new SharedAgentState();
  private readonly timing: Timing;
  private url: string | null = null;
  /** Dispatch and commit spans, message chains and counters for the coordinator. */
  private readonly observer: DistributorObserver;
  /** Writes the workers' ctx.progress values into the task records, fenced. */
  readonly progress: ProgressWriter;
  /** Warnings of a worker that heartbeats no faster than this distributor's timeout. */
  private readonly heartbeatPace: HeartbeatPace;
  /** Slots of the per-task-type limits (src/agents/limits/). */
  readonly limits: LimitGate;
  /** The checkpoints its workers send, stored fenced, and a task's thread for its next attempt. */
  private readonly checkpointIntake: CheckpointIntake;
  /** Warnings of a second process under a worker's id. */
  private readonly secondProcesses = new SecondProcessWarnings();
  /**
   * cleanup() has begun: its last heartbeat (`stopping`) is the last word; the heartbeat timer,
   * still running until the agent's timers stop, sends nothing more (nor registers again).
   */
  private leaving = false;
  /** The one warning that no coordinator takes its heartbeats (upstream-silence.ts). */
  private readonly silence: UpstreamSilence;
  /** Whether a coordinator has taken this distributor in (accepted a message of ours), or refuses it. */
  readonly join: UpstreamJoin;
  /** Whether this process waits as a standby for the lease a live process under its id holds. */
  readonly standby: LeaseStandby;

  constructor(options: DistributorAgentOptions) {
    super(agentBaseOptions("DistributorAgent", "distributor", options, OPTION_KEYS, DISTRIBUTOR_NESTED_KEYS));
    this.timing = resolveTiming(options.timing);
    const taskTimeoutMs = checkedMs("taskTimeoutMs", options.taskTimeoutMs ?? 30_000);
    const workerCapacity = checkedCount("workerCapacity", options.workerCapacity ?? 16);
    this.failover = new CoordinatorFailover(
      [
        { id: checkedId("coordinatorId", options.coordinatorId), url: options.coordinatorUrl },
        ...checkedCoordinators(`DistributorAgent ${JSON.stringify(this.agentId)}`, options.coordinators),
      ],
      this.timing.heartbeatTimeoutMs / 2,
    );
    this.heartbeatPace = new HeartbeatPace(this.log, {
      listener: "distributor",
      peerTier: "worker",
      heartbeatTimeoutMs: this.timing.heartbeatTimeoutMs,
    });
    this.silence = new UpstreamSilence({
      log: this.log,
      role: "coordinator",
      upstream: () => this.coordinatorId,
      heartbeatTimeoutMs: this.timing.heartbeatTimeoutMs,
      heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
    });
    this.join = new UpstreamJoin({
      log: this.log,
      tier: "distributor",
      role: "coordinator",
      upstream: () => this.coordinatorId,
      retryMs: this.timing.heartbeatIntervalMs,
    });
    this.store = new RedisClient(options.redis ?? {});
    this.standby = new LeaseStandby(this.store, `shared-state:${this.agentId}`, this.log);
    logStoreOutages(this.store, this.log, "dispatch and commits wait for it");
    this.ledger = new TaskLedger(this.store, options.ledger);
    this.checkpoints = new StoreCheckpointSaver(this.store);
    this.limits = new LimitGate(new LimitStore(this.store), {
      ...options.limits,
      distributorId: this.agentId,
      isHeld: (taskId) => this.core.heldTask(taskId) !== undefined,
    });
    for (const c of this.failover.coordinators) if (c.url) this.a2a.setPeer(c.id, c.url);
    this.observer = new DistributorObserver({
      agentId: this.agentId,
      store: this.store,
      stats: () => this.core.stats,
      rejected: () => this.a2a.stats().rejected,
    });
    this.progress = new ProgressWriter({
      store: this.store,
      shards: this.ledger.shards,
      holds: (workerId, taskId, fence) => this.core.holders.holds(workerId, taskId, fence),
      progressed: (taskId, progress) => this.core.progressed(taskId, progress),
      foreign: (update, workerId) => {
        const detail = `progress of task ${update.task_id} (fence ${update.fence}) from ${workerId}, which does not run it`;
        this.a2a.refuseUnauthorized({ sender: workerId, requestId: null, detail });
      },
    });
    this.checkpointIntake = new CheckpointIntake({
      checkpoints: this.checkpoints,
      retentionMs: () => this.ledger.retentionMs,
      holds: (workerId, taskId, fence) => this.core.holders.holds(workerId, taskId, fence),
      refuse: (refused, quiet) => this.a2a.refuseUnauthorized(refused, quiet),
      log: this.log,
    });
    const failover = this.failover;
    this.core = new DistributorCore({
      distributorId: this.agentId,
      get coordinatorId() {
        return failover.current.id; // terminal reports follow the coordinator it heartbeats
      },
      store: this.store,
      ledger: this.ledger,
      timing: this.timing,
      taskTimeoutMs,
      defaultWorkerCapacity: workerCapacity,
      reconcileIntervalMs: 5 * this.timing.heartbeatIntervalMs,
      send: (to, payload) => this.sendPayload(to, payload),
      handBack: warnUnansweredOnce(
        (to, tasks) => askHandBack(this.a2a, this.timing, to, tasks),
        (coordinator, tasks) =>
          this.log.warn(
            { coordinator, tasks },
            "hand_back not answered (a coordinator of an earlier release?): tasks kept here; told once until it answers",
          ),
      ),
      checkpointFor: (taskId, fence) => this.checkpointIntake.forAttempt(taskId, fence),
      dependenciesFor: (task) => dependencyOutcomes(this.ledger, task),
      beforeCommit: (outcomes) => this.progress.beforeCommit(outcomes),
      checkpointStoring: (taskId) => this.checkpointIntake.storingOf(taskId),
      limits: this.limits,
      events: this.observer.coreEvents(
        agentEvents({
          log: this.log,
          events: options.events,
          cancelOnWorker: (workerId, tasks) => this.cancelOnWorker(workerId, tasks),
          refuse: (refused) => this.a2a.refuseUnauthorized(refused),
        }),
      ),
    });
  }

  override async initialize(): Promise<boolean> {
    await super.initialize();
    this.leaving = false;
    if (!(await this.store.connect())) {
      throw this.store.unreachable(`distributor ${this.agentId}`);
    }
    this.url = await this.startTransport();
    if (!(await this.acquireSharedStateLease())) {
      this.log.info("shared-state lease held by another process; taking it once it is free");
    } else await this.standby.next(true);
    await this.limits.start();
    this.core.start();
    await this.register();
    this.every(this.timing.heartbeatIntervalMs, "heartbeat", () => this.heartbeat());
    this.every(Math.max(50, Math.floor(this.timing.leaseTtlMs / 3)), "shared-state", () =>
      this.writeSharedState(),
    );
    // One distributor of the deployment a minute walks the threads: whoever takes the lease.
    this.every(CHECKPOINT_SWEEP_MS, "checkpoint-retention", async () => {
      if (await this.store.acquireLease(CHECKPOINT_SWEEP_LEASE, this.agentId, CHECKPOINT_SWEEP_MS / 1200))
        await this.expireEndedCheckpoints();
    });
    return true;
  }

  /**
   * Gives the relayed checkpoints of tasks that ended the records' retention (they are kept
   * without one while their task may run again: see checkpoint-retention.ts). Runs every
   * minute on one distributor of the deployment (a lease); resolves with the number of threads
   * it set to expire.
   */
  expireEndedCheckpoints(): Promise<number> {
    return expireEndedThreads(this.checkpoints, this.ledger);
  }

  private async register(): Promise<void> {
    if (this.leaving) return; // a register after the stop's last heartbeat would undo it
    try {
      await this.sendPayload(this.coordinatorId, {
        kind: "register_distributor",
        distributor_id: this.agentId,
        url: this.url,
        ...this.bodyLimit(),
      });
      this.join.accepted();
    } catch (err) {
      this.join.failed(err); // a refusal (another secret) is said there, at error level
      if (this.join.state.status !== "refused")
        this.log.warn({ err: (err as Error).message }, "could not register with the coordinator yet");
    }
  }

  /**
   * `max_body_bytes` for its register and heartbeats when it listens (over HTTP): its coordinators
   * hold assignments to it to that limit before they leave, instead of learning it from a 413.
   */
  private bodyLimit(): { max_body_bytes?: number } {
    return this.url === null ? {} : { max_body_bytes: this.a2a.maxBodyBytes };
  }

  /** The coordinator it reports to now. */
  get coordinatorId(): string {
    return this.failover.current.id;
  }

  /** One more coordinator of the same store to move to when the current one stops answering. */
  addCoordinator(coordinator: CoordinatorAddress): void {
    if (coordinator.url) this.a2a.setPeer(coordinator.id, coordinator.url);
    this.failover.add(coordinator);
  }

  private async heartbeat(): Promise<void> {
    if (this.leaving) return;
    const step = await this.standby.next(this.core.lease.owns);
    // Checked again after the wait (a store read once the stop gave the lease up): a plain
    // heartbeat sent after the stop's last one would be taken as newer by the coordinator, and
    // the distributor listed as crashed once it fell silent, not as stopped.
    if (step === "hold" || this.leaving) return;
    if (step === "resume") await this.register();
    const from = this.coordinatorId;
    const beat = {
      ...this.core.heartbeat(this.url),
      heartbeat_interval_ms: this.timing.heartbeatIntervalMs,
      ...this.bodyLimit(),
    };
    const send = (to: string) =>
      (this.leaving ? Promise.resolve() : this.sendPayload(to, beat)).then(
        () => this.join.accepted(),
        (err: unknown) => {
          this.join.failed(err);
          throw err;
        },
      );
    if (await this.failover.beat(send)) {
      this.localState.updateTimestamp();
      this.silence.heard();
      return;
    }
    this.silence.missed();
    if (this.coordinatorId !== from) {
      this.log.warn({ from, to: this.coordinatorId }, "coordinator not answering; moving to the next");
      await this.register();
    }
  }

  /** Takes the shared-state lease (seed: acquire_shared_state_lease); false while another holds it. */
  async acquireSharedStateLease(): Promise<boolean> {
    return this.core.keepLease();
  }

  /** Extends the lease (seed: renew_shared_state_lease); false when it is no longer ours. */
  async renewSharedStateLease(): Promise<boolean> {
    return this.core.keepLease();
  }

  /**
   * Writes the seed's SharedAgentState to Redis while we hold the lease, every third of its TTL.
   * It expires a lease TTL plus the dead-agent retention after the last write: a distributor gone
   * for good (a rolling restart under a new id) does not leave its state in the store for ever.
   */
  private async writeSharedState(): Promise<void> {
    if (!this.core.lease.owns) return;
    const lease = await this.store.getLease(this.core.lease.leaseKey);
    const state = this.sharedState;
    for (const w of this.core.registry.all()) {
      if (w.status === "dead") state.removeWorker(w.id);
      else state.assignWorker(w.id);
    }
    state.setStatus(this.core.load > 0 ? AgentStatus.BUSY : AgentStatus.IDLE);
    state.setLease(
      lease ? { owner: lease.owner, acquired_at: lease.acquired_at, expires_at: lease.expires_at } : null,
    );
    for (const id of [...state.tasks.keys()]) state.removeTask(id);
    for (const dict of this.core.heldTasks(100)) state.addTask(Task.fromDict(dict));
    const dict = state.toDict() as unknown as JsonValue;
    const ttlMs = this.timing.leaseTtlMs + this.timing.deadRetentionMs;
    await this.store.set(`shared-state:${this.agentId}`, dict, ttlMs / 1000);
  }

  /**
   * Whether a worker's message comes from the process heard under its id (WorkerRegistry.
   * sameProcess); another live one is ignored, and said so now and then (SecondProcessWarnings).
   */
  private takesProcess(workerId: string, instance: string | undefined, url: string | null): boolean {
    if (this.core.registry.sameProcess(workerId, instance)) return true;
    if (this.secondProcesses.due(workerId)) {
      this.log.warn(
        { worker: workerId, url, runs_at: this.core.registry.get(workerId)?.url ?? null },
        "a second process heartbeats under this worker id: it is given no work (give each worker its own --id)",
      );
    }
    return false;
  }

  /**
   * Adds a worker to the pool (seed: register_worker); it must still heartbeat to get work.
   * `options.maxBodyBytes`: the body limit it takes, as its heartbeats' max_body_bytes states it
   * (jobs to it are held to it from the start); left out, a limit it stated before is kept.
   */
  async registerWorker(workerId: string, options: { maxBodyBytes?: number } = {}): Promise<boolean> {
    checkWorkerRegistration(workerId, options);
    // What it stated (its URL, concurrency, backlog) is kept: this call states none of it. One
    // not known gets the capacity assumed until it says (the workerCapacity option).
    const entry = this.core.onWorkerRegister(workerId, undefined, undefined);
    const { maxBodyBytes } = options;
    if (maxBodyBytes !== undefined) {
      entry.maxBodyBytes = maxBodyBytes;
      this.a2a.setPeerLimit(workerId, maxBodyBytes); // held to it once its address is known
    }
    return true;
  }

  /** Runs this task on this worker now (seed: assign_task_to_worker). */
  async assignTaskToWorker(task: Task | TaskDict, workerId: string): Promise<boolean> {
    checkIdArgument("assignTaskToWorker", "workerId", workerId);
    const dict = (task instanceof Task ? task.toDict() : task) as TaskDict;
    return this.core.assignTaskToWorker(dict, workerId);
  }

  /** One monitor tick (seed: monitor_workers); also runs on its own every monitorIntervalMs. */
  async monitorWorkers(): Promise<void> {
    await this.core.monitorWorkers();
  }

  async executeTask(_task: Task): Promise<AgentReply> {
    return { status: "error", error: "a distributor does not execute tasks; its workers do" };
  }

  /** Tells a worker to cancel attempts (best effort: their results are refused by their fence anyway). */
  private cancelOnWorker(workerId: string, tasks: AttemptCancelWire[]): void {
    this.sendPayload(workerId, { kind: "cancel_attempts", tasks }).catch((err: unknown) =>
      this.log.debug({ worker: workerId, err: (err as Error).message }, "could not pass a cancel on"),
    );
  }

  protected override messageNodes(): Record<string, MessageNode> {
    return {
      "event.task_progress": async (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "task_progress" || !this.speaksAs(s.message, "worker")) return {};
        await this.progress.onProgress(s.message.sender, p.updates);
        return {};
      },
      // A join's dependencies' results left out of its job (src/agents/workflow/dependency-fetch.ts).
      "request.fetch_dependencies": async (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "fetch_dependencies" || !this.speaksAs(s.message, "worker")) return {};
        await serveFetch({ ledger: this.ledger, distributorId: this.agentId, a2a: this.a2a }, s.message, p);
        return {};
      },
      "event.cancel_attempts": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "cancel_attempts" || !this.speaksAs(s.message, "coordinator")) return {};
        for (const [workerId, tasks] of cancelTargets(this.core.registry, p.tasks))
          this.cancelOnWorker(workerId, tasks);
        return {};
      },
      heartbeat: (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind === "worker_status" && this.speaksAs(s.message, "worker")) {
          if (!this.takesProcess(s.message.sender, p.instance, p.url)) return {};
          this.observer.heartbeatTaken(s.message.sender, p);
          this.heartbeatPace.heard(s.message.sender, p.heartbeat_interval_ms);
          const entry = this.core.onWorkerHeartbeat(s.message.sender, p);
          if (p.url) this.learnPeer(s.message.sender, p.url, entry.maxBodyBytes); // as last stated
        }
        return {};
      },
      "event.register_worker": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "register_worker" || !this.speaksAs(s.message, "worker")) return {};
        if (!this.takesProcess(s.message.sender, p.instance, p.url)) return {};
        const entry = this.core.onWorkerRegister(s.message.sender, p.url, p.capacity);
        if (p.max_body_bytes !== undefined) entry.maxBodyBytes = p.max_body_bytes;
        if (p.url) this.learnPeer(s.message.sender, p.url, entry.maxBodyBytes, true);
        this.sharedState.assignWorker(s.message.sender);
        this.log.info({ worker: s.message.sender, url: p.url }, "worker registered");
        return { history: { event: "worker_registered", worker: s.message.sender } };
      },
      "event.assign_tasks": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind === "assign_tasks" && this.speaksAs(s.message, "coordinator")) {
          // The coordinator that placed them hears of their end (several coordinators: see onAssign).
          // Its advertised URL is learned only when it is not known already: a coordinator's URL
          // given to this distributor (a proxy, a load balancer's name) is never replaced by the one
          // the coordinator says it listens on.
          if (p.url && this.a2a.peerUrl(s.message.sender) === undefined)
            this.learnPeer(s.message.sender, p.url);
          this.core.onAssign(p.tasks, s.message.sender);
        }
        return {};
      },
      "event.task_results": async (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "task_results" || !this.speaksAs(s.message, "worker")) return {};
        await this.core.onResults(s.message.sender, p.results);
        return {};
      },
      "event.checkpoint": async (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "checkpoint" || !this.speaksAs(s.message, "worker")) return {};
        await this.checkpointIntake.receive(s.message, p);
        return {};
      },
    };
  }

  protected override messageObserver(): MessageObserver {
    return this.observer;
  }

  /** Its heartbeat is given up when the coordinator is given up on (CoordinatorFailover's patience). */
  protected override heartbeatPatienceMs(): number {
    return this.failover.patienceMs;
  }

  /**
   * Jobs for workers and ends for coordinators go without a copy in one process: each is built
   * for its message (an attempt's task dict, a committed record) and none is changed after.
   * What came from outside (a submitter's payload, a handler's result) was copied on its way in.
   */
  protected override handsOver(kind: string): boolean {
    return kind === "execute_tasks" || kind === "task_terminal";
  }

  protected override fastRoutes(): string[] {
    return [
      "heartbeat",
      "event.assign_tasks",
      "event.task_results",
      "event.checkpoint",
      "event.task_progress",
      "event.cancel_attempts",
      "request.fetch_dependencies",
    ];
  }

  /**
   * `maxBodyBytes`: the body limit the peer takes, as it last stated it (its entry's). A
   * `registration` that does not say keeps what was stated before, its URL unchanged.
   */
  private learnPeer(agentId: string, url: string, maxBodyBytes?: number, registration = false): void {
    if (this.a2a.peerUrl(agentId) !== url) this.a2a.setPeer(agentId, url);
    if (!registration || maxBodyBytes !== undefined) this.a2a.setPeerLimit(agentId, maxBodyBytes);
  }

  /** Stops dispatching, lets in-flight results land (within `timeoutMs`), hands the lease back. */
  async shutdown(timeoutMs = 10_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    this.core.drain(); // queued tasks stay ours in Redis; the coordinator moves them once we say we stop
    while (
      performance.now() < deadline &&
      this.core.registry.all().some((w) => w.inFlight.size > 0 && w.status !== "dead")
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    await this.cleanup();
  }

  /**
   * Stops at once (shutdown() first lets in-flight results land): the lease is given back and,
   * when this process held it, the last heartbeat says it stops, as a graceful stop's does — the
   * coordinator lists it and its workers as stopped, not as a crash, and moves its tasks now (no
   * one would commit them).
   */
  override async cleanup(): Promise<void> {
    this.limits.stop();
    // Said only by the process that holds the lease (the one the coordinator hears as this id):
    // a second process under a running one's id, released after a failed start, or a standby
    // waiting for the lease, would otherwise have the running one taken for stopped.
    const owned = this.core.lease.owns;
    this.leaving = true; // no heartbeat nor register after this (the timers run on until super.cleanup)
    await this.core.stop(true);
    if (owned) await this.sayStopping();
    await super.cleanup();
    await this.store.disconnect();
  }

  /**
   * A stop's last heartbeat, once nothing is taken any more (timers stopped, lease given up):
   * `stopping`, so that the coordinator moves the tasks left here at once rather than a
   * heartbeat timeout later. Not sent before (shutdown() drains first): a task still running on
   * a worker whose result this distributor could still commit, moved, would run twice. Lost,
   * the timeout does it as before (and the stop is listed as a crash).
   */
  private async sayStopping(): Promise<void> {
    const last = { ...this.core.heartbeat(this.url), stopping: true };
    await this.sendPayload(this.coordinatorId, last).catch(() => {});
  }
}
