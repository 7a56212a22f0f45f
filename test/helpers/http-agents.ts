import type { DistributorAgentOptions } from "../../src/agents/distributor/distributor-agent.js";
import {
  CoordinatorAgent,
  DistributorAgent,
  type Task,
  type TaskHandler,
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
  /** Whether every worker is to say it fetches the results left out of a job (default true). */
  fetchesDependencies?: boolean;
};

/**
 * A coordinator, a distributor and workers talking over HTTP with no router, as agents in
 * separate processes do, each under its own body limit (the in-process router has none).
 * `use` gets them once the distributor has every worker's heartbeat, saying whether it fetches
 * left-out results as `fetchesDependencies` wants; all are stopped after.
 */
export async function withHttpAgents<T>(
  o: HttpAgentsOptions,
  use: (agents: HttpAgents) => Promise<T>,
): Promise<T> {
  const run = Math.random().toString(36).slice(2, 7);
  const redis = o.engine.config();
  const fetches = o.fetchesDependencies ?? true;
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
      timing: FAST,
    });
    agents.push(c);
    await c.initialize();
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      coordinatorUrl: c.url!,
      redis,
      a2a: a2a(`d-${run}`, o.limits.d),
      timing: FAST,
      ...(o.distributorEvents ? { events: o.distributorEvents } : {}),
    });
    agents.push(d);
    await d.initialize();
    const workers: WorkerAgent[] = [];
    for (const [k, { limit, handlers, prepare }] of o.workers.entries()) {
      const w = new WorkerAgent({
        agentId: `w${k}-${run}`,
        distributorId: d.agentId,
        distributorUrl: d.a2a.url!,
        a2a: a2a(`w${k}-${run}`, limit),
        timing: FAST,
        handlers,
      });
      prepare?.(w);
      agents.push(w);
      workers.push(w);
      await w.initialize();
    }
    await until(
      "the distributor has every worker's heartbeat",
      () =>
        c.core.directory.get(d.agentId)?.workers.length === workers.length &&
        workers.every((w) => d.core.registry.get(w.agentId)?.fetchesDependencies === fetches),
      30_000,
    );
    return await use({ c, d, workers, run });
  } finally {
    for (const a of agents.reverse()) await a.cleanup().catch(() => {});
  }
}
