import { afterEach, describe, expect, it } from "vitest";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { FaultyRouter } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { standbyPair } from "../../helpers/two-coordinators.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * Heartbeat ages on the dashboard with several coordinators: every coordinator's page gives each
 * worker the age GET /agents gives it, whether it hears the worker's distributor itself, heard it
 * once and lost it to another coordinator, or never heard it (what the others publish counts,
 * the newest word wins).
 */

const TOKEN = "cluster-ages-token";

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
    // The distributor reports to c2 first (c1 only when c2 stops answering).
    const { c1, c2, d, w } = await standbyPair({
      router,
      redis,
      run,
      stops,
      coordinator: { placementTimeoutMs: 20_000 },
      worker: { concurrency: 2 },
    });
    const coordinators = [c1, c2];
    const servers: RunningServer[] = [];
    for (const c of coordinators) {
      const server = await startCoordinatorServer(c, { port: 0, apiToken: TOKEN });
      servers.push(server);
      stops.push(() => server.close());
    }
    const [s1, s2] = servers as [RunningServer, RunningServer];
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
