import type { Task } from "../../src/index.js";
import {
  type A2AMessage,
  A2ARouter,
  CoordinatorAgent,
  type CoordinatorAgentOptions,
  DistributorAgent,
  type RedisConfig,
  type TaskHandler,
  type Timing,
  WorkerAgent,
} from "../../src/index.js";
import { until } from "./wait.js";

/** Fast timing for tests: dead after 400 ms of silence instead of 3 s. */
export const FAST: Timing = {
  heartbeatIntervalMs: 100,
  heartbeatTimeoutMs: 400,
  monitorIntervalMs: 100,
  leaseTtlMs: 600,
  batchLingerMs: 1,
  busyAssignLingerMs: 10,
  deadRetentionMs: 600_000,
};

/**
 * An in-process router that can lose messages: from agents marked frozen (as if SIGSTOPped:
 * nothing they send arrives) or at random, for fault tests. Everything else is delivered.
 */
export class FaultyRouter extends A2ARouter {
  readonly frozen = new Set<string>();
  dropRate = 0;
  faultDrops = 0;

  override deliver(message: A2AMessage, signedText?: string, unsigned?: boolean, handOver?: boolean) {
    if (
      this.frozen.has(message.sender) ||
      this.frozen.has(message.recipient) ||
      Math.random() < this.dropRate
    ) {
      this.faultDrops++;
      return { accepted: false as const, reason: "busy" as const, detail: "dropped by the fault injector" };
    }
    return super.deliver(message, signedText, unsigned, handOver);
  }
}

export type CommitRecord = { taskId: string; status: string; by: string };

/** Coordinator + distributors + workers in one process on their own router, with a record of every commit. */
export class TestCluster {
  readonly router = new FaultyRouter();
  readonly commits: CommitRecord[] = [];
  readonly stale: Array<{ taskId: string; worker: string }> = [];
  coordinator!: CoordinatorAgent;
  readonly distributors = new Map<string, DistributorAgent>();
  readonly workers = new Map<string, WorkerAgent>();
  private readonly run = Math.random().toString(36).slice(2, 7);
  /** Agents crashed by `crash`: what they hold in memory is never committed. */
  private readonly crashed = new Set<WorkerAgent | DistributorAgent>();

  constructor(
    readonly redis: RedisConfig,
    readonly options: {
      handlers?: Record<string, TaskHandler<Task>>;
      concurrency?: number;
      timing?: Timing;
    } = {},
  ) {}

  id(name: string): string {
    return `${name}-${this.run}`;
  }

  private get timing(): Timing {
    return this.options.timing ?? FAST;
  }

  /** The coordinator, with `extra` options beside the cluster's (schedules: { maxSchedules }, say). */
  async startCoordinator(extra: Partial<CoordinatorAgentOptions> = {}): Promise<CoordinatorAgent> {
    this.coordinator = new CoordinatorAgent({
      agentId: this.id("coordinator"),
      redis: this.redis,
      a2a: { router: this.router },
      timing: this.timing,
      retry: { default: { maxRetries: 2, backoffMs: 20 } },
      placementTimeoutMs: 20_000,
      ...extra,
    });
    await this.coordinator.initialize();
    return this.coordinator;
  }

  /** A distributor `name`; `beforeStart` sees it before it starts (to hold its reads, say). */
  async startDistributor(
    name: string,
    beforeStart?: (d: DistributorAgent) => void,
  ): Promise<DistributorAgent> {
    const d = new DistributorAgent({
      agentId: this.id(name),
      coordinatorId: this.coordinator.agentId,
      redis: this.redis,
      a2a: { router: this.router },
      timing: this.timing,
      taskTimeoutMs: 10_000,
      events: {
        committed: (task) => this.commits.push({ taskId: task.task_id, status: task.status, by: d.agentId }),
        staleResult: (outcome, worker) => this.stale.push({ taskId: outcome.task_id, worker }),
      },
    });
    beforeStart?.(d);
    await d.initialize();
    this.distributors.set(name, d);
    return d;
  }

  /** A worker of `distributor`; `handlers` (its own task types) instead of the cluster's. */
  async startWorker(
    name: string,
    distributor: string,
    handlers?: Record<string, TaskHandler<Task>>,
  ): Promise<WorkerAgent> {
    handlers ??= this.options.handlers;
    const w = new WorkerAgent({
      agentId: this.id(name),
      distributorId: this.id(distributor),
      a2a: { router: this.router },
      timing: this.timing,
      concurrency: this.options.concurrency ?? 8,
      ...(handlers ? { handlers } : {}),
    });
    await w.initialize();
    this.workers.set(name, w);
    return w;
  }

  /** The coordinator, distributor d1 and its worker w1, ready (within `readyTimeoutMs`, as ready()): d1. */
  async startOne(
    readyTimeoutMs?: number,
    coordinator: Partial<CoordinatorAgentOptions> = {},
  ): Promise<DistributorAgent> {
    await this.startCoordinator(coordinator);
    const d1 = await this.startDistributor("d1");
    await this.startWorker("w1", "d1");
    await this.ready(readyTimeoutMs);
    return d1;
  }

  /** Waits until every distributor holds its lease and knows its workers. */
  async ready(timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      const ok = [...this.distributors.values()].every(
        (d) => d.core.lease.owns && d.core.registry.alive().length > 0,
      );
      // Healthy in the coordinator's eyes too (it has heard the distributor hold its lease):
      // until then it places nothing there, and a burst would all go to the others.
      const healthy = new Set(this.coordinator.core.directory.healthy().map((e) => e.id));
      const known = [...this.distributors.values()].every(
        (d) => healthy.has(d.agentId) && this.coordinator.core.directory.get(d.agentId)?.capacity,
      );
      if (ok && known) return;
      await new Promise((r) => setTimeout(r, 20));
    }
    throw new Error("cluster did not become ready");
  }

  /** A crash: timers stop and the agent leaves the router, nothing is handed back, no lease released. */
  async crash(agent: WorkerAgent | DistributorAgent): Promise<void> {
    this.crashed.add(agent);
    (agent as unknown as { stopTimers(): void }).stopTimers();
    if (agent instanceof DistributorAgent) await agent.core.stop(false);
    else agent.core.stop();
    await agent.a2a.close();
    if (agent instanceof DistributorAgent) await agent.store.disconnect();
  }

  async stop(): Promise<void> {
    for (const w of this.workers.values()) await w.cleanup().catch(() => {});
    for (const d of this.distributors.values()) await d.cleanup().catch(() => {});
    await this.coordinator?.cleanup().catch(() => {});
  }

  /**
   * Waits until every id has a commit record and no distributor that could still commit holds
   * one of them (queued, or in flight on a worker): a waiter may hear of a terminal task (from
   * the ledger) a moment before the distributor's commit callback runs, and a second commit
   * could only come from an attempt a distributor still holds. Counts are read once neither can
   * change; a double commit shows as a count of 2. Throws after `timeoutMs`, naming what is not
   * there yet.
   */
  async settled(ids: string[], timeoutMs = 5000): Promise<Map<string, number>> {
    const open = () => {
      const counts = this.commitCounts();
      const uncommitted = ids.filter((id) => !counts.has(id));
      const held = ids.filter((id) => [...this.distributors.values()].some((d) => this.holds(d, id)));
      return { uncommitted, held };
    };
    try {
      await until(
        `${ids.length} task(s) are committed and held by no distributor`,
        () => {
          const { uncommitted, held } = open();
          return uncommitted.length === 0 && held.length === 0;
        },
        timeoutMs,
      );
    } catch (err) {
      const { uncommitted, held } = open();
      throw new Error(`${(err as Error).message}: not committed ${uncommitted}; still held ${held}`);
    }
    return this.commitCounts();
  }

  /** Whether `d` holds `taskId` and could commit it: not crashed, its lease held (nothing is committed without). */
  private holds(d: DistributorAgent, taskId: string): boolean {
    return !this.crashed.has(d) && d.core.lease.owns && d.core.heldTask(taskId) !== undefined;
  }

  /** Commits per task id. */
  commitCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const c of this.commits) counts.set(c.taskId, (counts.get(c.taskId) ?? 0) + 1);
    return counts;
  }
}
