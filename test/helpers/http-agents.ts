import type { DistributorAgentOptions } from "../../src/agents/distributor/distributor-agent.js";
import {
  CoordinatorAgent,
  DistributorAgent,
  type Task,
  type TaskHandler,
  type Timing,
  WorkerAgent,
} from "../../src/index.js";
import { FAST } from "./cluster.js";
import { type TestEngine, testEngines } from "./engines.js";
import { until } from "./wait.js";

/** Each test engine twice, over message streams and over POSTs: `name` says which ("memory, streams"). */
export function enginesOverHttp(
  suite: string,
): Array<{ engine: TestEngine; streams: boolean; name: string }> {
  return testEngines(suite).flatMap((engine) =>
    [true, false].map((streams) => ({
      engine,
      streams,
      name: `${engine.name}, ${streams ? "streams" : "POSTs"}`,
    })),
  );
}

export type HttpAgents = {
  c: CoordinatorAgent;
  d: DistributorAgent;
  workers: WorkerAgent[];
  /** The random tail of their ids (`c-<run>`, `d-<run>`, `w<k>-<run>`), for unique task ids. */
  run: string;
  /** With `secondCoordinator`: `c2-<run>`, which hears of the distributor only through c's view. */
  c2?: CoordinatorAgent;
};

export type HttpAgentsOptions = {
  engine: TestEngine;
  /** Message streams, else one POST a message. */
  streams: boolean;
  /** The shared secret their tokens are signed with. */
  secret: string;
  /** The coordinator's and the distributor's body limits (a2a.maxBodyBytes). */
  limits: { c: number; d: number };
  /** The workers, each under its own body limit; `prepare` runs on one before it starts. */
  workers: Array<{
    limit: number;
    handlers: Record<string, TaskHandler<Task>>;
    prepare?: (w: WorkerAgent) => void;
  }>;
  distributorEvents?: DistributorAgentOptions["events"];
  /** Runs on the distributor before it starts (a test making it an older release's). */
  prepareDistributor?: (d: DistributorAgent) => void;
  /** A second coordinator under the coordinator's limit; the distributor reports to c only. */
  secondCoordinator?: boolean;
  /** Every agent's timing (default FAST). */
  timing?: Timing;
  /** Whether `use` waits for the distributor's heartbeats listing every worker (default true). */
  awaitHeartbeats?: boolean;
  /** Whether every worker is to say it fetches the results left out of a job (default true). */
  fetchesDependencies?: boolean;
};

/**
 * A coordinator, a distributor and workers talking over HTTP with no router, as agents in
 * separate processes do, each under its own body limit (the in-process router has none).
 * `use` gets them once the distributor has every worker's heartbeat, saying whether it fetches
 * left-out results as `fetchesDependencies` wants (or, with `awaitHeartbeats: false`, once they
 * have started); all are stopped after.
 */
export async function withHttpAgents<T>(
  o: HttpAgentsOptions,
  use: (agents: HttpAgents) => Promise<T>,
): Promise<T> {
  const run = Math.random().toString(36).slice(2, 7);
  const redis = o.engine.config();
  const fetches = o.fetchesDependencies ?? true;
  const timing = o.timing ?? FAST;
  const a2a = (agentId: string, maxBodyBytes: number) => ({
    agentId,
    tokenSecret: o.secret,
    agentPort: 0,
    host: "127.0.0.1",
    router: null,
    maxBodyBytes,
    streams: o.streams,
  });
  const agents: Array<{ cleanup(): Promise<void> }> = [];
  try {
    const c = new CoordinatorAgent({
      agentId: `c-${run}`,
      redis,
      a2a: a2a(`c-${run}`, o.limits.c),
      timing,
    });
    agents.push(c);
    await c.initialize();
    const c2 = o.secondCoordinator
      ? new CoordinatorAgent({ agentId: `c2-${run}`, redis, a2a: a2a(`c2-${run}`, o.limits.c), timing })
      : undefined;
    if (c2) {
      agents.push(c2);
      await c2.initialize();
    }
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      coordinatorUrl: c.url!,
      redis,
      a2a: a2a(`d-${run}`, o.limits.d),
      timing,
      ...(o.distributorEvents ? { events: o.distributorEvents } : {}),
    });
    o.prepareDistributor?.(d);
    agents.push(d);
    await d.initialize();
    const workers: WorkerAgent[] = [];
    for (const [k, { limit, handlers, prepare }] of o.workers.entries()) {
      const w = new WorkerAgent({
        agentId: `w${k}-${run}`,
        distributorId: d.agentId,
        distributorUrl: d.a2a.url!,
        a2a: a2a(`w${k}-${run}`, limit),
        timing,
        handlers,
      });
      prepare?.(w);
      agents.push(w);
      workers.push(w);
      await w.initialize();
    }
    if (o.awaitHeartbeats ?? true) {
      await until(
        "the distributor has every worker's heartbeat",
        () =>
          c.core.directory.get(d.agentId)?.workers.length === workers.length &&
          workers.every((w) => d.core.registry.get(w.agentId)?.fetchesDependencies === fetches),
        30_000,
      );
    }
    return await use({ c, d, workers, run, ...(c2 ? { c2 } : {}) });
  } finally {
    for (const a of agents.reverse()) await a.cleanup().catch(() => {});
  }
}
