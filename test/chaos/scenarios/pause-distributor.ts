import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask } from "./common.js";

/**
 * SIGSTOP of a distributor past its heartbeat timeout and its lease TTL: the coordinator
 * declares it dead and moves its tasks (fencing off the attempts running on its workers),
 * while its workers finish those attempts and wait to deliver. Then SIGCONT: it finds its lease
 * gone (its own clock says so: it stops acting as owner), takes a new one, and the results its
 * workers deliver now are refused by their fences.
 */
export const pauseDistributor: Scenario = {
  title:
    "SIGSTOP of a distributor past its lease, then SIGCONT: its workers' late results are refused by their fence",
  name: "SIGSTOP/SIGCONT distributor",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const rounds = long ? 3 : 1;
    return runScenario(
      ctx,
      "SIGSTOP/SIGCONT distributor",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: long
          ? { d1: [{ id: "w1" }, { id: "w2" }], d2: [{ id: "w3" }, { id: "w4" }] }
          : { d1: [{ id: "w1" }], d2: [{ id: "w2" }] },
      },
      async (cluster) => {
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            const victim = round % 2 === 0 ? "d1" : "d2";
            const running = () => cluster.workersOf(victim).flatMap((w) => cluster.inFlightOn(w.id));
            await cluster.waitUntil(() => running().length >= 3, 20_000, `${victim} with attempts running`);
            const pausedAt = Date.now();
            cluster.pause(victim);
            await cluster.waitForOp("dead", { target: victim }, pausedAt - 1, 30_000);
            await cluster.waitUntil(
              async () => (await cluster.openOn(victim)).length === 0,
              10_000,
              `${victim}'s tasks moved`,
            );
            // Past its lease TTL too: the lease is gone in Redis, whatever its clock said when it froze.
            await sleep(Math.max(0, pausedAt + timing.leaseTtlMs + 200 - Date.now()));
            cluster.resume(victim);
            await sleep(long ? 5000 : 1000);
          }
        };
        await cluster.loadUntil(faults(), long ? 40 : 30, (i) => slowTask("pd", i, 400 + ((i * 53) % 600)));
        return { faultKinds: `${rounds} × SIGSTOP past lease, SIGCONT` };
      },
      (cluster, result) => {
        expect(result.stats.staleRejected).toBeGreaterThan(0);
        expect(result.stats.doubleCommits).toBe(0);
        expect(cluster.agent("d1").proc.output).toMatch(/refused a stale result/);
      },
    );
  },
};
