import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask } from "./common.js";

/**
 * A network partition between the coordinator and a distributor that can still reach Redis and
 * its workers: the coordinator declares it dead and moves its tasks, while the distributor —
 * its lease still valid — carries on, its workers finishing the attempts they were given. No
 * clock or lease stops it; only the fences do: the moved tasks' attempts can no longer commit,
 * its queued tasks can no longer be dispatched. Then the partition heals and it takes work again.
 */
export const partition: Scenario = {
  title:
    "a partition between the coordinator and a distributor that still reaches Redis: its work is fenced off",
  name: "partition coordinator / distributor",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const rounds = long ? 3 : 1;
    const cuts: Array<{ victim: string; from: number; to: number }> = [];
    // Longer than detection and the move: what runs at the cut is still running when its task moves.
    const taskMs = (i: number) => timing.heartbeatTimeoutMs * 1.5 + ((i * 97) % timing.heartbeatTimeoutMs);
    return runScenario(
      ctx,
      "partition coordinator / distributor",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1", concurrency: 16 }], d2: [{ id: "w2", concurrency: 16 }] },
        proxies: {},
      },
      async (cluster) => {
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            const victim = round % 2 === 0 ? "d1" : "d2";
            const running = () => cluster.workersOf(victim).flatMap((w) => cluster.inFlightOn(w.id));
            await cluster.waitUntil(() => running().length >= 3, 20_000, `${victim} with attempts running`);
            const cutAt = Date.now();
            cluster.partition("c1", victim);
            await cluster.waitForOp("dead", { target: victim }, cutAt - 1, 30_000);
            await cluster.waitUntil(
              () => cluster.heldBy(victim).length === 0,
              10_000,
              `${victim}'s tasks moved`,
            );
            await sleep(timing.heartbeatTimeoutMs * 2.5);
            cluster.reconnect("c1", victim);
            cuts.push({ victim, from: cutAt, to: Date.now() });
            await cluster.waitForAgents(30_000);
            await sleep(long ? 3000 : 500);
          }
        };
        await cluster.loadUntil(faults(), long ? 4 : 10, (i) => slowTask("np", i, taskMs(i)));
        return { faultKinds: `${rounds} × partition, heal` };
      },
      (cluster, result) => {
        expect(result.stats.staleRejected).toBeGreaterThan(0);
        // Cut off from the coordinator only, it kept acting as owner — and its fences refused its work.
        for (const cut of cuts) {
          const refused = cluster
            .history()
            .filter((e) => e.op === "rejected" && e.agent === cut.victim && e.t >= cut.from && e.t <= cut.to);
          expect(refused.length, `results refused by ${cut.victim} during the partition`).toBeGreaterThan(0);
        }
      },
    );
  },
};
