import { randomUUID } from "node:crypto";
import { TriadError } from "../../core/errors.js";
import { type JsonObject, jsonCopy } from "../../core/json.js";
import type { KeysOf } from "../../core/known-keys.js";
import type { Logger } from "../../core/logger.js";
import type { A2AMessage } from "../../core/messaging/index.js";
import {
  type AgentReply,
  type MessageNode,
  type MessageState,
  RelayCheckpointSaver,
  Task,
} from "../../core/state/index.js";
import { type AgentA2AConfig, TriadAgent } from "../agent-base.js";
import { agentBaseOptions, checkedCount, checkedId, checkedMs } from "../agent-options.js";
import {
  type AgentPayload,
  type DispatchedTask,
  type RemoteAgentInfo,
  WORKER_BACKLOG_PER_SLOT,
} from "../protocol.js";
import { isTooLarge } from "../split-send.js";
import { resolveTiming, type Timing } from "../timing.js";
import { UpstreamJoin } from "../upstream-join.js";
import { UpstreamSilence } from "../upstream-silence.js";
import { fetchLeftOut } from "../workflow/dependency-fetch.js";
import { builtinHandlers } from "./handlers/index.js";
import { isGraphHandler, runTask, type TaskHandler } from "./task-runner.js";
import { WorkerCore } from "./worker-core.js";

export type WorkerAgentOptions = {
  agentId: string;
  distributorId: string;
  a2a?: AgentA2AConfig;
  /** Task type -> handler (a function of the Task, or a compiled LangGraph graph), beside the built-ins. */
  handlers?: Record<string, TaskHandler<Task>>;
  /** Attempts run at once. Default 16. */
  concurrency?: number;
  /** Time one attempt may take when the distributor does not say. Default 30 s. */
  taskTimeoutMs?: number;
  /** The distributor's A2A URL when it runs in another process. */
  distributorUrl?: string;
  timing?: Partial<Timing>;
  logger?: Logger;
};

/** Every option of the constructor: any other key is refused (a misspelt one was ignored). */
const OPTION_KEYS: KeysOf<WorkerAgentOptions> = {
  agentId: true, // checkedId
  distributorId: true, // checkedId
  a2a: "object",
  handlers: "object",
  concurrency: "number",
  taskTimeoutMs: "number",
  distributorUrl: "string",
  timing: "object",
  logger: "object",
};

/** What a checkpoint message adds around its transfer: ids, metadata, signature (ids at most 256 characters). */
const CHECKPOINT_ENVELOPE_BYTES = 2048;

/**
 * The worker (seed: worker/agent.py): runs tasks, keeps no Redis, talks to its distributor only
 * through A2A messages. It heartbeats its load, runs what it is sent within its concurrency
 * limit, and delivers each outcome until the distributor acknowledges it.
 */
export class WorkerAgent extends TriadAgent {
  readonly distributorId: string;
  readonly core: WorkerCore;
  private readonly handlers = new Map<string, TaskHandler<Task>>();
  private readonly timing: Timing;
  private readonly taskTimeoutMs: number;
  private readonly concurrency: number;
  private url: string | null = null;
  /** This process among any that heartbeat under the same id (workerHeartbeat.instance). */
  readonly instance = randomUUID();
  /** When the distributor last answered, and the one warning of its silence (upstream-silence.ts). */
  private readonly silence: UpstreamSilence;
  /** Whether the distributor has taken this worker in (accepted a message of ours), or refuses it. */
  readonly join: UpstreamJoin;

  constructor(options: WorkerAgentOptions) {
    super(agentBaseOptions("WorkerAgent", "worker", options, OPTION_KEYS));
    this.distributorId = checkedId("distributorId", options.distributorId);
    this.timing = resolveTiming(options.timing);
    this.silence = new UpstreamSilence({
      log: this.log,
      role: "distributor",
      upstream: () => this.distributorId,
      heartbeatTimeoutMs: this.timing.heartbeatTimeoutMs,
      heartbeatIntervalMs: this.timing.heartbeatIntervalMs,
    });
    this.join = new UpstreamJoin({
      log: this.log,
      tier: "worker",
      role: "distributor",
      upstream: () => this.distributorId,
      retryMs: this.timing.heartbeatIntervalMs,
    });
    this.taskTimeoutMs = checkedMs("taskTimeoutMs", options.taskTimeoutMs ?? 30_000);
    this.concurrency = checkedCount("concurrency", options.concurrency ?? 16);
    const builtins = builtinHandlers();
    for (const [type, handler] of Object.entries(builtins))
      this.handlers.set(type, handler as TaskHandler<Task>);
    for (const [type, handler] of Object.entries(options.handlers ?? {}))
      this.registerTaskHandler(type, handler);
    if (options.distributorUrl) this.a2a.setPeer(this.distributorId, options.distributorUrl);
    this.core = new WorkerCore({
      capacity: this.concurrency,
      resendMs: this.timing.heartbeatIntervalMs,
      // Attempts handed back, or the drain begun: the distributor hears of it now.
      onReturned: () => void this.sendHeartbeat(),
      batchLingerMs: this.timing.batchLingerMs,
      maxBacklog: this.concurrency * WORKER_BACKLOG_PER_SLOT,
      handlerFor: (type) => this.handlers.get(type) as TaskHandler | undefined,
      // A built-in handler reads only id, type and payload, and a graph (or a2aAgentHandler) is
      // given only the id (its thread) and the payload: both are spared building a Task (two
      // schema passes per task); a function handler gets the Task that SPEC promises it.
      toHandlerTask: (dict) => {
        const handler = this.handlers.get(dict.task_type);
        const builtin = Object.hasOwn(builtins, dict.task_type) && handler === builtins[dict.task_type];
        if (builtin) return { taskId: dict.task_id, taskType: dict.task_type, payload: dict.payload };
        // A built-in only reads its payload; anyone else's handler gets a copy of its own (the
        // job came without one: see DistributorAgent.handsOver), so that what it does to it
        // cannot reach the distributor's record of the attempt, nor a retry.
        const payload = jsonCopy(dict.payload) as JsonObject;
        return isGraphHandler(handler)
          ? { taskId: dict.task_id, taskType: dict.task_type, payload }
          : Task.fromDict({ ...dict, payload });
      },
      send: (payload) => this.sendPayload(this.distributorId, payload),
      checkpointerFor: (job) => this.relayFor(job),
      fetchDependencies: (job) =>
        fetchLeftOut(job, this.a2a.maxBodyBytes, (payload, timeoutMs) =>
          this.a2a.sendRequest(this.distributorId, payload, timeoutMs),
        ),
      onUnsendable: (taskId, reason) =>
        this.log.warn({ task: taskId, reason }, "outcome cannot be sent; reporting a failure"),
    });
  }

  /** Adds (or replaces) the handler of a task type: a function of the Task, or a compiled graph. */
  registerTaskHandler(taskType: string, handler: TaskHandler<Task>): void {
    if (typeof taskType !== "string" || taskType.length === 0) {
      throw new TriadError("ERR_INVALID_ARGUMENT", "a task type must be a non-empty string");
    }
    if (typeof handler !== "function" && !isGraphHandler(handler)) {
      throw new TriadError(
        "ERR_INVALID_HANDLER",
        `the handler of "${taskType}" must be a function or have invoke()`,
      );
    }
    this.handlers.set(taskType, handler);
  }

  get taskTypes(): string[] {
    return [...this.handlers.keys()];
  }

  override async initialize(): Promise<boolean> {
    await super.initialize();
    this.url = await this.startTransport();
    this.core.start();
    await this.register();
    this.every(this.timing.heartbeatIntervalMs, "heartbeat", () => this.sendHeartbeat());
    return true;
  }

  private async register(): Promise<void> {
    try {
      await this.sendPayload(this.distributorId, {
        kind: "register_worker",
        worker_id: this.agentId,
        url: this.url,
        capacity: this.concurrency,
        instance: this.instance,
        // As on its heartbeats (over HTTP): a job sent before the first one is held to it.
        ...(this.url === null ? {} : { max_body_bytes: this.a2a.maxBodyBytes }),
      });
    } catch (err) {
      // The distributor may not be up yet: heartbeats register us as soon as it is. A refusal
      // (another secret) is said by the join, at error level.
      this.join.failed(err);
      if (this.join.state.status !== "refused")
        this.log.warn({ err: (err as Error).message }, "could not register with the distributor yet");
    }
  }

  /** Tells the distributor we are alive, what we run, and how much room we have. */
  async sendHeartbeat(): Promise<boolean> {
    try {
      const heartbeat = this.core.heartbeat(this.url, this.taskTypes, this.a2a.stats().rejected);
      heartbeat.instance = this.instance;
      heartbeat.heartbeat_interval_ms = this.timing.heartbeatIntervalMs;
      if (this.url !== null) heartbeat.max_body_bytes = this.a2a.maxBodyBytes;
      const remote = this.remoteAgents();
      await this.sendPayload(
        this.distributorId,
        remote.length ? { ...heartbeat, remote_agents: remote } : heartbeat,
      );
      this.localState.updateTimestamp();
      return true;
    } catch (err) {
      this.join.failed(err);
      this.silence.missed(err);
      return false;
    }
  }

  /** The remote A2A agents its handlers bridge (a handler that can describe one: a2aAgentHandler), once each. */
  remoteAgents(): RemoteAgentInfo[] {
    const byUrl = new Map<string, RemoteAgentInfo>();
    for (const handler of this.handlers.values()) {
      const describe = (handler as { describeRemoteAgent?: () => RemoteAgentInfo }).describeRemoteAgent;
      if (typeof describe !== "function") continue;
      const info = describe.call(handler);
      const seen = byUrl.get(info.url);
      const named = seen?.name ? seen : info; // a handler whose card is not read yet knows no name
      byUrl.set(info.url, seen ? { ...named, skills: [...new Set([...seen.skills, ...info.skills])] } : info);
    }
    return [...byUrl.values()];
  }

  /** Runs one task here and now, outside any distributor, and returns its terminal task dict. */
  async executeTask(task: Task): Promise<AgentReply> {
    const t = task instanceof Task ? task : Task.fromDict(task);
    t.reassign(this.agentId, t.fencingToken ?? 0);
    t.markStarted();
    const outcome = await runTask(this.handlers.get(t.taskType) as TaskHandler | undefined, t, {
      timeoutMs: this.taskTimeoutMs,
      attempt: t.attempts,
    });
    if (outcome.status === "completed") t.markCompleted(outcome.result);
    else if (outcome.status === "failed") t.markFailed(outcome.error);
    else t.markFailed("the task asked for input, which a task run outside a distributor cannot get");
    return t.toDict() as unknown as AgentReply;
  }

  private relayFor(job: DispatchedTask): RelayCheckpointSaver {
    const seed = Array.isArray(job.checkpoint) ? job.checkpoint : [];
    return new RelayCheckpointSaver({
      seed,
      // The cap a message to the distributor has over HTTP, in one process too (the router has none).
      maxBytes: Math.max(1, this.a2a.maxBodyBytes - CHECKPOINT_ENVELOPE_BYTES),
      sink: (transfer) =>
        this.sendPayload(this.distributorId, {
          kind: "checkpoint",
          task_id: job.task.task_id,
          fence: job.fence,
          checkpoint: transfer as unknown as JsonObject,
        }).catch((err: unknown) => {
          // Under this worker's limit and refused by the distributor's, a smaller one (413): the
          // step would make the same state again, so not retried, as one over our own limit.
          if (!isTooLarge(err)) throw err;
          throw new TriadError(
            "ERR_CHECKPOINT_TOO_LARGE",
            `a checkpoint of thread ${job.task.task_id} is over the distributor's message limit (ERR_CHECKPOINT_TOO_LARGE: the graph's state must fit in a message to the distributor): ${(err as Error).message}`,
            { retryable: false },
          );
        }),
    });
  }

  protected override messageNodes(): Record<string, MessageNode> {
    return {
      "event.execute_tasks": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "execute_tasks" || !this.fromDistributor(s.message)) return {};
        if (p.acks) this.core.acknowledge(p.acks);
        this.core.accept(p.tasks);
        return {};
      },
      "event.results_ack": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind === "results_ack" && this.fromDistributor(s.message)) this.core.acknowledge(p.acks);
        return {};
      },
      "event.cancel_attempts": (s: MessageState) => {
        const p = this.payloadOf(s.message);
        if (p?.kind !== "cancel_attempts" || !this.fromDistributor(s.message)) return {};
        const canceled = this.core.cancel(p.tasks);
        if (canceled > 0)
          this.log.info({ tasks: p.tasks.map((t) => t.task_id) }, "canceled running attempts");
        return {};
      },
    };
  }

  /** Work and acknowledgements come only from our distributor; anyone else's is refused (`unauthorized`). */
  private fromDistributor(message: A2AMessage): boolean {
    if (message.sender === this.distributorId) {
      this.silence.heard();
      return true;
    }
    const detail = `${message.payload.event_type} from ${message.sender}, not this worker's distributor`;
    this.a2a.refuseUnauthorized({ sender: message.sender, requestId: message.metadata.request_id, detail });
    return false;
  }

  protected override fastRoutes(): string[] {
    return ["event.execute_tasks", "event.results_ack", "event.cancel_attempts"];
  }

  /** A heartbeat is given up after half the distributor's timeout: a newer one is on its way by then. */
  protected override heartbeatPatienceMs(): number {
    return this.timing.heartbeatTimeoutMs / 2;
  }

  /**
   * Outcomes go to the distributor without a copy in one process: each is built by the worker,
   * from its own copy of what the handler gave (task-runner's settledOutcome), and kept unchanged
   * until it is acknowledged.
   */
  protected override handsOver(kind: string): boolean {
    return kind === "task_results";
  }

  /**
   * Stops taking work, lets running tasks finish and their outcomes land (within `timeoutMs`),
   * then leaves. Outcomes for a distributor that stopped answering are not waited on (see
   * WorkerCore.drain); while it answers, the wait says what it is for.
   */
  async shutdown(timeoutMs = 10_000): Promise<boolean> {
    const to = this.distributorId;
    const end = await this.core.drain(timeoutMs, {
      answering: () => this.distributorAnswering(),
      waiting: ({ running, unacked }) =>
        this.log.info(
          { distributor: to, running, unacknowledged: unacked },
          `shutting down: waiting for ${running} running task${running === 1 ? "" : "s"} and ${unacked} result${unacked === 1 ? "" : "s"} distributor ${to} has not acknowledged`,
        ),
    });
    if (end.givenUp > 0) {
      const silentMs = this.silence.silentMs();
      this.log.warn(
        { distributor: to, results: end.givenUp, silentMs },
        `shutting down: giving up ${end.givenUp} result${end.givenUp === 1 ? "" : "s"} distributor ${to} has not acknowledged: it has not answered for ${silentMs} ms (heartbeat timeout ${this.timing.heartbeatTimeoutMs} ms), dead; whoever takes over its tasks runs them again`,
      );
    } else if (!end.drained && end.left.running + end.left.unacked > 0) {
      this.log.warn(
        { distributor: to, running: end.left.running, unacknowledged: end.left.unacked },
        `shutting down: out of time with ${end.left.running} task${end.left.running === 1 ? "" : "s"} running and ${end.left.unacked} result${end.left.unacked === 1 ? "" : "s"} not acknowledged; the distributor runs those tasks again`,
      );
    }
    await this.cleanup();
    return end.drained;
  }

  /**
   * Whether the distributor has shown it is there within its heartbeat timeout: accepted a
   * message of ours (a heartbeat every interval) or sent one. The distributor judges its workers
   * by the same measure.
   */
  private distributorAnswering(): boolean {
    return this.silence.answering();
  }

  protected override async sendPayload(recipient: string, payload: AgentPayload): Promise<void> {
    await super.sendPayload(recipient, payload);
    if (recipient === this.distributorId) {
      this.silence.heard();
      this.join.accepted();
    }
  }

  /**
   * Stops at once (shutdown() first lets running tasks finish). Its last word, awaited before
   * the connections close: a heartbeat saying it stops (the core takes nothing more now), so the
   * distributor lists this stop as stopped, not as a crash, and sends it nothing more.
   */
  override async cleanup(): Promise<void> {
    this.core.stop();
    if (this.distributorAnswering()) await this.sendHeartbeat();
    await super.cleanup();
  }
}
