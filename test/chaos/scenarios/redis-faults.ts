import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

/**
 * Redis under a running load: every client connection dropped (CLIENT KILL TYPE normal, twice),
 * then the server killed with -9 and started again from its append-only file, then restarted
 * cleanly. Scripts in flight fail or lose their replies; agents reconnect, retry and reconcile.
 * With appendfsync always, what Redis acknowledged survives: nothing accepted is lost.
 */
export const redisFaults: Scenario = {
  title: "Redis restarted mid-run (AOF on) and client connections dropped: nothing accepted is lost",
  name: "Redis restart (AOF) + connections dropped",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const rounds = long ? 3 : 1;
    return runScenario(
      ctx,
      "Redis restart (AOF) + connections dropped",
      {
        timing,
        appendOnly: true,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }], d2: [{ id: "w2" }] },
      },
      async (cluster) => {
        let dropped = 0;
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            await sleep(long ? 3000 : 800);
            dropped += await cluster.dropRedisConnections();
            await sleep(long ? 2000 : 500);
            dropped += await cluster.dropRedisConnections();
            await sleep(long ? 3000 : 800);
            await cluster.restartRedis({ hard: true, downMs: long ? 1500 : 500 });
            await sleep(long ? 3000 : 800);
            await cluster.restartRedis({ hard: false, downMs: 300 });
          }
          await sleep(long ? 3000 : 800);
        };
        await cluster.loadUntil(faults(), long ? 60 : 40, (i) => slowTask("rf", i, spreadMs(i, 300)));
        // The agents' own connections were among those dropped (not just the checker's).
        expect(dropped).toBeGreaterThan(2 * rounds);
        return {
          faultKinds: `${rounds * 2} × CLIENT KILL, ${rounds} × kill -9 + AOF restart, ${rounds} × restart`,
        };
      },
      (cluster) => {
        // The redis-server that ends the run is the restarted one, and every agent is still up.
        for (const a of cluster.agents.values()) expect(a.proc.running).toBe(true);
      },
    );
  },
};
