import { afterEach, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";

/**
 * Heartbeat ages on the dashboard with several coordinators: every coordinator's page gives each
 * worker the age GET /agents gives it, whether it hears the worker's distributor itself, heard it
 * once and lost it to another coordinator, or never heard it (what the others publish counts,
 * the newest word wins).
 */

const TOKEN = "cluster-ages-token";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, ok: () => boolean | Promise<boolean>, timeoutMs = 8000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await ok())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(20);
  }
}

type Agent = { id: string; tier: string; status: string; heartbeat_age_ms: number | null };

async function dashboardAgents(server: RunningServer): Promise<Agent[]> {
  const res = await fetch(`${server.url}/dashboard/state`, { headers: { authorization: `Bearer ${TOKEN}` } });
  expect(res.status).toBe(200);
  return ((await res.json()) as { agents: Agent[] }).agents;
}

describe("the dashboard's heartbeat ages with two coordinators", () => {
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  });

  it("are the workers' true ages on both, the distributor heard by one, then by the other", async () => {
    const router = new FaultyRouter();
    const run = Math.random().toString(36).slice(2, 7);
    const redis = { url: `memory://dashboard-cluster-ages-${process.pid}`, keyPrefix: uniquePrefix("ages") };
    const coordinators = ["c1", "c2"].map(
      (name) =>
        new CoordinatorAgent({
          agentId: `${name}-${run}`,
          redis,
          a2a: { router },
          timing: FAST,
          placementTimeoutMs: 20_000,
        }),
    );
    const [c1, c2] = coordinators as [CoordinatorAgent, CoordinatorAgent];
    await Promise.all(coordinators.map((c) => c.initialize()));
    stops.push(
      () => c1.cleanup(),
      () => c2.cleanup(),
    );
    const servers: RunningServer[] = [];
    for (const c of coordinators) {
      const server = await startCoordinatorServer(c, { port: 0, apiToken: TOKEN });
      servers.push(server);
      stops.push(() => server.close());
    }
    const [s1, s2] = servers as [RunningServer, RunningServer];

    // The distributor reports to c2 first (c1 only when c2 stops answering).
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c2.agentId,
      coordinators: [{ id: c1.agentId }],
      redis,
      a2a: { router },
      timing: FAST,
    });
    await d.initialize();
    stops.push(() => d.cleanup());
    const w = new WorkerAgent({
      agentId: `w-${run}`,
      distributorId: d.agentId,
      a2a: { router },
      timing: FAST,
      concurrency: 2,
    });
    await w.initialize();
    stops.push(() => w.cleanup());
    await until("both coordinators know the distributor with its worker", () =>
      coordinators.every((c) => (c.core.directory.get(d.agentId)?.capacity ?? 0) > 0),
    );
    expect(c2.core.directory.get(d.agentId)?.via).toBeNull();
    expect(c1.core.directory.get(d.agentId)?.via).toBe(c2.agentId);

    // Heartbeats every 100 ms, views every tick: an age past a second would be a wrong one.
    const fresh = async (server: RunningServer): Promise<void> => {
      const agents = await dashboardAgents(server);
      for (const id of [d.agentId, w.agentId]) {
        const agent = agents.find((a) => a.id === id);
        expect(agent, `${id} on ${server.url}`).toBeDefined();
        expect(agent!.heartbeat_age_ms, `${id}'s age on ${server.url}`).not.toBeNull();
        expect(agent!.heartbeat_age_ms!, `${id}'s age on ${server.url}`).toBeLessThan(1_000);
      }
    };
    await sleep(500);
    // c1 never heard the distributor itself: what c2 publishes gives the worker's age.
    await fresh(s1);
    await fresh(s2);

    // c2 stops answering (as if frozen); the distributor moves to c1 and stays there after.
    router.frozen.add(c2.agentId);
    await until("c1 hears the distributor itself", () => c1.core.directory.get(d.agentId)?.via === null);
    await sleep(1_500);
    router.frozen.delete(c2.agentId);
    await until(
      "c2 takes c1's word on the distributor",
      () => c2.core.directory.get(d.agentId)?.via === c1.agentId,
    );
    // c2's own last report of the distributor is from before the move: it no longer counts.
    for (let i = 0; i < 6; i++) {
      await sleep(300);
      await fresh(s1);
      await fresh(s2);
    }
  });
});
