import { CoordinatorAgent, DistributorAgent, type TaskHandler, WorkerAgent } from "../agents/index.js";
import type { TaskTypeLimit } from "../agents/limits/limit-spec.js";
import type { Logger } from "../core/logger.js";
import type { Task } from "../core/state/index.js";
import type { RedisConfig } from "../core/store/index.js";
import type { RunningServer } from "../server/coordinator-server.js";

/** What runAgentProcess keeps back of a tier's --shutdown-timeout for what follows the agents' stop. */
const AFTER_AGENTS_MS = 500;

/**
 * The agents of `triad up`, all in this process: started one after another, and stopped once,
 * whoever asks first (the end of the run, a signal, a failed start), whatever had started by then.
 * A signal during the start-up is heard between two agents: no more start, and stop() stops
 * those that did (their leases given up, their registrations gone), not a process killed with
 * its agents half started.
 */
export class UpCluster {
  readonly coordinators: CoordinatorAgent[] = [];
  readonly distributors: DistributorAgent[] = [];
  readonly workers: WorkerAgent[] = [];
  /** The HTTP servers up started (it starts them: their --keep and port rules are its own). */
  readonly servers: RunningServer[] = [];
  private stopping: Promise<void> | undefined;

  constructor(
    private readonly o: {
      coordinators: number;
      distributors: number;
      workers: number;
      concurrency: number;
      redis: RedisConfig;
      handlers: Record<string, TaskHandler<Task>>;
      limits: Record<string, TaskTypeLimit>;
      /** The coordinators' caps (up's --max-limits, --max-schedules). */
      maxLimits: number;
      maxSchedules: number;
      logger: Logger;
      /** up's --shutdown-timeout: the agents' stop has that long, less what their end needs. */
      shutdownTimeoutMs: number;
      /** After the agents and servers have stopped (the embedded store dropped). */
      afterStop?: () => void;
    },
  ) {}

  /**
   * Starts the coordinators, then each distributor, then each worker. Resolves true once all
   * run, false once `signal` aborted (no agent started after that). An agent is listed before
   * its start, so stop() also ends one whose start failed halfway.
   */
  async start(signal: AbortSignal): Promise<boolean> {
    const { o } = this;
    const log = o.logger;
    for (let c = 1; c <= o.coordinators; c++) {
      this.coordinators.push(
        new CoordinatorAgent({
          agentId: `coordinator-${c}`,
          redis: o.redis,
          logger: log,
          retry: { default: { maxRetries: 2, backoffMs: 50 } },
          limits: { initial: o.limits, maxLimits: o.maxLimits },
          schedules: { maxSchedules: o.maxSchedules },
        }),
      );
    }
    await Promise.all(this.coordinators.map((c) => c.initialize()));
    for (let d = 1; d <= o.distributors && !signal.aborted; d++) {
      // Each reports to one coordinator in turn, and moves to the next when it stops answering.
      const order = this.coordinators.map((_, k) => this.coordinators[(d - 1 + k) % o.coordinators]!.agentId);
      const dist = new DistributorAgent({
        agentId: `distributor-${d}`,
        coordinatorId: order[0]!,
        coordinators: order.slice(1).map((id) => ({ id })),
        redis: o.redis,
        logger: log,
      });
      this.distributors.push(dist);
      await dist.initialize();
    }
    for (let w = 1; w <= o.workers && !signal.aborted; w++) {
      const worker = new WorkerAgent({
        agentId: `worker-${w}`,
        distributorId: this.distributors[(w - 1) % o.distributors]!.agentId,
        concurrency: o.concurrency,
        handlers: o.handlers,
        logger: log,
      });
      this.workers.push(worker);
      await worker.initialize();
    }
    return !signal.aborted;
  }

  /**
   * Stops every agent listed and every server, once; the same promise after. Distributors first:
   * each hands back what it holds and waits for what its workers run, which they finish and
   * deliver. A worker shutting down first would refuse every task dispatched to it meanwhile as a
   * failed attempt, retried at once and failed for good after its retries. Distributors and
   * workers share one allowance, --shutdown-timeout less AFTER_AGENTS_MS, as a tier process has.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const deadline = performance.now() + Math.max(0, this.o.shutdownTimeoutMs - AFTER_AGENTS_MS);
      const left = () => Math.max(0, deadline - performance.now());
      await Promise.all(this.distributors.map((d) => d.shutdown(left())));
      await Promise.all(this.workers.map((w) => w.shutdown(left())));
      await Promise.all(this.coordinators.map((c) => c.cleanup()));
      await Promise.all(this.servers.map((s) => s.close()));
      this.o.afterStop?.();
    })();
    return this.stopping;
  }
}
