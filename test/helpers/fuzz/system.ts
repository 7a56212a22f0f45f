import { createClient } from "redis";
import { DEFAULT_SHARDS, shardOf, shardTag } from "../../../src/agents/ledger/shards.js";
import { CoordinatorAgent, DistributorAgent, type Timing, WorkerAgent } from "../../../src/index.js";
import { coordinatorHttp } from "../../../src/server/coordinator-server.js";
import { freePort } from "../free-port.js";
import { START_UP_MS, TriadProcess } from "../processes.js";
import { RedisServer } from "../redis-server.js";

/**
 * A Triad cluster under fuzz, whichever way it runs (agents in this process behind their real
 * HTTP servers on memory://, or `bin/triad` processes on a redis-server of the test's own): where
 * to send requests, and how to read the truth back (liveness, a task's status, every task the
 * ledger ever recorded) without going through the API being fuzzed.
 */
export type FuzzSystem = {
  coordinatorUrl: string;
  coordinatorPort: number;
  apiToken: string;
  secret: string;
  /** Every agent's A2A listener (coordinator, distributor, workers). */
  agents: Array<{ id: string; tier: "coordinator" | "distributor" | "worker"; url: string; port: number }>;
  /** Why some part of the cluster is not alive and answering (empty when all are). */
  deadParts(): Promise<string[]>;
  /** The ledger's status of a task, or null when there is no such task. */
  taskStatus(taskId: string): Promise<string | null>;
  /** Every task id the ledger has recorded. */
  recordedIds(): Promise<Set<string>>;
  close(): Promise<void>;
};

export const FUZZ_TOKEN = "fuzz-api-token";
export const FUZZ_SECRET = "fuzz-shared-secret";

/** Moderate timing: fast enough for the bound, slow enough that a loaded 2-core box is not "dead". */
const TIMING: Timing = {
  heartbeatIntervalMs: 200,
  heartbeatTimeoutMs: 3000,
  monitorIntervalMs: 200,
  leaseTtlMs: 3000,
  batchLingerMs: 1,
  busyAssignLingerMs: 10,
  deadRetentionMs: 600_000,
};
/** A task no worker can run is abandoned after this (unplaceable), well within the fuzz bound. */
const PLACEMENT_TIMEOUT_MS = 3000;

/** GET a URL; true when anything at all answers with a status below 500 within the timeout. */
async function answers(url: string, headers: Record<string, string> = {}): Promise<boolean> {
  try {
    const res = await fetch(url, { headers, signal: AbortSignal.timeout(5000) });
    await res.arrayBuffer();
    return res.status < 500;
  } catch {
    return false;
  }
}

async function deadAgents(system: Pick<FuzzSystem, "agents" | "coordinatorUrl">): Promise<string[]> {
  const dead: string[] = [];
  await Promise.all(
    system.agents.map(async (a) => {
      if (!(await answers(`${a.url}/a2a`))) dead.push(`${a.tier} ${a.id} does not answer GET /a2a`);
    }),
  );
  if (!(await answers(`${system.coordinatorUrl}/agents`, { authorization: `Bearer ${FUZZ_TOKEN}` }))) {
    dead.push("the coordinator's REST API does not answer GET /agents");
  }
  return dead;
}

/** Coordinator, one distributor and two workers in this process, each behind its own HTTP listener. */
export async function inProcessSystem(name: string): Promise<FuzzSystem> {
  const redis = { url: `memory://fuzz-${name}-${process.pid}-${Math.random().toString(36).slice(2, 7)}` };
  const recorded = new Set<string>();
  const a2a = (agentId: string) => ({
    agentId,
    tokenSecret: FUZZ_SECRET,
    agentPort: 0,
    host: "127.0.0.1",
    router: null,
  });
  const coordinator = new CoordinatorAgent({
    agentId: "fuzz-coordinator",
    redis,
    a2a: a2a("fuzz-coordinator"),
    timing: TIMING,
    placementTimeoutMs: PLACEMENT_TIMEOUT_MS,
    retry: { default: { maxRetries: 2, backoffMs: 20 } },
    ledger: { observer: (e) => e.op === "recorded" && recorded.add(e.task_id) },
  });
  const http = coordinatorHttp(coordinator, { apiToken: FUZZ_TOKEN });
  coordinator.a2a.serveOtherRoutes((req, res) => void http.handle(req, res));
  await coordinator.initialize();
  const distributor = new DistributorAgent({
    agentId: "fuzz-distributor",
    coordinatorId: coordinator.agentId,
    coordinatorUrl: coordinator.url!,
    redis,
    a2a: a2a("fuzz-distributor"),
    timing: TIMING,
    taskTimeoutMs: 3000,
  });
  await distributor.initialize();
  const workers = [] as WorkerAgent[];
  for (const n of [1, 2]) {
    const w = new WorkerAgent({
      agentId: `fuzz-worker-${n}`,
      distributorId: distributor.agentId,
      distributorUrl: distributor.a2a.url!,
      a2a: a2a(`fuzz-worker-${n}`),
      timing: TIMING,
      concurrency: 8,
    });
    await w.initialize();
    workers.push(w);
  }
  const system: FuzzSystem = {
    coordinatorUrl: coordinator.url!,
    coordinatorPort: Number(new URL(coordinator.url!).port),
    apiToken: FUZZ_TOKEN,
    secret: FUZZ_SECRET,
    agents: [
      { id: coordinator.agentId, tier: "coordinator" as const, url: coordinator.url! },
      { id: distributor.agentId, tier: "distributor" as const, url: distributor.a2a.url! },
      ...workers.map((w) => ({ id: w.agentId, tier: "worker" as const, url: w.a2a.url! })),
    ].map((a) => ({ ...a, port: Number(new URL(a.url).port) })),
    deadParts: () => deadAgents(system),
    async taskStatus(taskId) {
      return (await coordinator.ledger.get(taskId))?.task.status ?? null;
    },
    recordedIds: async () => new Set(recorded),
    async close() {
      http.stopAccepting();
      for (const w of workers) await w.cleanup().catch(() => {});
      await distributor.cleanup().catch(() => {});
      await coordinator.cleanup().catch(() => {});
    },
  };
  await waitUntil(async () => {
    const d = coordinator.core.directory.get(distributor.agentId);
    return d !== undefined && d.workers.length === workers.length && distributor.core.lease.owns;
  }, "the in-process cluster to be ready");
  return system;
}

/**
 * `bin/triad coordinator | distributor | worker` as separate processes with TRIAD_SECRET and
 * TRIAD_API_TOKEN set, on a redis-server of the test's own: the way the adversarial run met them.
 */
export async function processSystem(): Promise<FuzzSystem> {
  const redis = await RedisServer.start();
  const env = {
    TRIAD_SECRET: FUZZ_SECRET,
    TRIAD_API_TOKEN: FUZZ_TOKEN,
    TRIAD_LOG_LEVEL: "warn",
  };
  const procs: TriadProcess[] = [];
  const start = async (args: string[]) => {
    const p = new TriadProcess(args, env);
    procs.push(p);
    return (await p.waitFor(/ready \w+ \S+ (http:\/\/\S+)/, START_UP_MS))[1]!;
  };
  const client = createClient({ url: redis.url });
  try {
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    const common = ["--redis", redis.url];
    const coordinatorUrl = await start([
      "coordinator",
      "--id",
      "fuzz-c",
      ...common,
      "--port",
      String(cp),
      "--placement-timeout",
      String(PLACEMENT_TIMEOUT_MS),
    ]);
    const distributorUrl = await start([
      "distributor",
      "--id",
      "fuzz-d",
      "--coordinator",
      coordinatorUrl,
      ...common,
      "--port",
      String(dp),
      "--task-timeout",
      "3000",
    ]);
    const workerUrl = await start([
      "worker",
      "--id",
      "fuzz-w",
      "--distributor",
      distributorUrl,
      "--port",
      String(wp),
    ]);
    await client.connect();
    const system: FuzzSystem = {
      coordinatorUrl,
      coordinatorPort: cp,
      apiToken: FUZZ_TOKEN,
      secret: FUZZ_SECRET,
      agents: [
        { id: "fuzz-c", tier: "coordinator", url: coordinatorUrl, port: cp },
        { id: "fuzz-d", tier: "distributor", url: distributorUrl, port: dp },
        { id: "fuzz-w", tier: "worker", url: workerUrl, port: wp },
      ],
      async deadParts() {
        const dead = procs
          .filter((p) => !p.running)
          .map((p) => `process ${p.pid} exited:\n${p.output.slice(-2000)}`);
        return [...dead, ...(await deadAgents(system))];
      },
      async taskStatus(taskId) {
        // The ledger's key of a task (the CLI's store has no key prefix): no scan per lookup.
        const key = `${shardTag(shardOf(taskId, DEFAULT_SHARDS))}task:${taskId}`;
        // Every record has a status; a record keeps no task_id (the id is in its key).
        return (await client.hGet(key, "status")) ?? null;
      },
      async recordedIds() {
        const ids = new Set<string>();
        for await (const batch of client.scanIterator({ MATCH: "{t*}:task:*", TYPE: "hash", COUNT: 1000 })) {
          for (const key of batch) ids.add(key.slice(key.indexOf("}:task:") + "}:task:".length));
        }
        return ids;
      },
      async close() {
        await Promise.all(procs.map((p) => p.kill()));
        await client.quit().catch(() => {});
        await redis.destroy();
      },
    };
    await waitUntil(
      async () => {
        const res = await fetch(`${coordinatorUrl}/agents`, {
          headers: { authorization: `Bearer ${FUZZ_TOKEN}` },
        });
        const body = (await res.json()) as { agents: Array<{ tier: string; status: string }> };
        return body.agents.some((a) => a.tier === "worker" && a.status !== "dead");
      },
      "the processes to see each other",
      30_000,
    );
    return system;
  } catch (err) {
    await Promise.all(procs.map((p) => p.kill()));
    await client.quit().catch(() => {});
    await redis.destroy();
    throw err;
  }
}

export async function waitUntil(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs = 10_000,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      if (await check()) return;
    } catch {
      // not yet
    }
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
