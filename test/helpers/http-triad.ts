import type { AgentA2AConfig } from "../../src/agents/agent-base.js";
import type { CoordinatorAgentOptions } from "../../src/agents/coordinator/coordinator-agent.js";
import type { WorkerAgentOptions } from "../../src/agents/worker/worker-agent.js";
import {
  CoordinatorAgent,
  DistributorAgent,
  type RedisConfig,
  type Task,
  type TaskHandler,
  WorkerAgent,
} from "../../src/index.js";
import { FAST } from "./cluster.js";
import { until } from "./wait.js";

/** A coordinator, a distributor and a worker that talk over HTTP, as httpTriad starts them. */
export type HttpTriad = {
  /** A short random tag in the agents' ids, for the test's own ids. */
  run: string;
  coordinator: CoordinatorAgent;
  distributor: DistributorAgent;
  worker: WorkerAgent;
  /** The workers of `moreWorkers`, in order. */
  moreWorkers: WorkerAgent[];
  /** Stops the three, worker first; never throws. */
  cleanup: () => Promise<void>;
};

/**
 * One coordinator, distributor and worker (ids `c-<run>`, `d-<run>`, `w-<run>`, FAST timing) on
 * `redis`, each with its A2A server on a free loopback port and no in-process router, so every
 * message between them goes over HTTP under a body limit of `maxBodyBytes` (the agents' default
 * when not given). Resolves once the coordinator knows the worker; what it started is stopped
 * if it fails on the way.
 */
export async function httpTriad(o: {
  redis: RedisConfig;
  handlers: Record<string, TaskHandler<Task>>;
  /** The A2A token secret the three share. */
  secret: string;
  maxBodyBytes?: number;
  /** More options of the coordinator's and the worker's (retry limits, concurrency). */
  coordinator?: Partial<CoordinatorAgentOptions>;
  worker?: Partial<WorkerAgentOptions>;
  /**
   * More workers on the distributor, `<name>-<run>`, each with the worker's options and `a2a` over
   * the A2A options the agents share (`{ payloadCodec: undefined }`: one of an earlier release,
   * which reads no codec); the triad is then ready once the coordinator knows every worker.
   */
  moreWorkers?: Array<{ name: string; a2a?: AgentA2AConfig }>;
}): Promise<HttpTriad> {
  const run = Math.random().toString(36).slice(2, 7);
  const a2a = (agentId: string) => ({
    agentId,
    tokenSecret: o.secret,
    agentPort: 0,
    host: "127.0.0.1",
    router: null,
    ...(o.maxBodyBytes === undefined ? {} : { maxBodyBytes: o.maxBodyBytes }),
  });
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  const cleanup = async () => {
    for (const a of agents.splice(0).reverse()) await a.cleanup().catch(() => {});
  };
  try {
    const coordinator = new CoordinatorAgent({
      agentId: `c-${run}`,
      redis: o.redis,
      a2a: a2a(`c-${run}`),
      timing: FAST,
      ...o.coordinator,
    });
    agents.push(coordinator);
    await coordinator.initialize();
    const distributor = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: coordinator.agentId,
      coordinatorUrl: coordinator.url!,
      redis: o.redis,
      a2a: a2a(`d-${run}`),
      timing: FAST,
    });
    agents.push(distributor);
    await distributor.initialize();
    const newWorker = (agentId: string, more: AgentA2AConfig = {}) =>
      new WorkerAgent({
        agentId,
        distributorId: distributor.agentId,
        distributorUrl: distributor.a2a.url!,
        a2a: { ...a2a(agentId), ...more },
        timing: FAST,
        handlers: o.handlers,
        ...o.worker,
      });
    const worker = newWorker(`w-${run}`);
    const moreWorkers = (o.moreWorkers ?? []).map((w) => newWorker(`${w.name}-${run}`, w.a2a));
    for (const w of [worker, ...moreWorkers]) {
      agents.push(w);
      await w.initialize();
    }
    await until(
      "the coordinator knows the workers",
      () => (coordinator.core.directory.get(distributor.agentId)?.workers.length ?? 0) > moreWorkers.length,
      10_000,
    );
    return { run, coordinator, distributor, worker, moreWorkers, cleanup };
  } catch (err) {
    await cleanup();
    throw err;
  }
}
