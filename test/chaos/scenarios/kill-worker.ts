import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

/**
 * kill -9 of a worker mid-task, in two ways a real deployment sees it: a worker that stays
 * dead until its distributor declares it so (its attempts are taken back, fenced, and run
 * elsewhere), and a worker that a supervisor restarts at once under the same id (it comes back
 * before anyone notices, without the attempts it had: they must not stay stuck).
 */
export const killWorker: Scenario = {
  title: "kill -9 of a worker mid-task: its attempts move to other workers; none lost, none committed twice",
  name: "kill -9 worker",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const rounds = long ? 6 : 2;
    return runScenario(
      ctx,
      "kill -9 worker",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: long ? [{ id: "w1" }, { id: "w2" }, { id: "w3" }] : [{ id: "w1" }, { id: "w2" }] },
      },
      async (cluster) => {
        const victims = long ? ["w1", "w2", "w3"] : ["w1", "w2"];
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            const victim = victims[round % victims.length]!;
            await cluster.waitUntil(
              () => cluster.inFlightOn(victim).length >= 3,
              20_000,
              `${victim} mid-task`,
            );
            if (round % 2 === 0) {
              // Dead for good until declared so; then back.
              const killedAt = Date.now();
              await cluster.kill(victim);
              await cluster.waitForOp("dead", { target: victim }, killedAt - 1, 20_000);
              await sleep(timing.heartbeatIntervalMs);
              await cluster.restart(victim);
            } else {
              // Restarted at once by a supervisor, as fast as a process starts.
              await cluster.kill(victim);
              await cluster.restart(victim);
            }
            await sleep(long ? 4000 : 500);
          }
        };
        // The short run's rate is about half its two workers' capacity (16 slots, 380 ms a task on
        // average: ~42/s): at 40/s, the backlog a kill leaves (a worker out while it restarts, seconds
        // on a loaded host) did not drain within settle's 25 s on a loaded host (149 tasks still
        // pending, seen), and every task more is CPU the agents share. The rate is not the point:
        // each kill waits for 3 attempts in flight on its victim whatever the rate.
        await cluster.loadUntil(faults(), long ? 60 : 20, (i) => slowTask("kw", i, spreadMs(i, 700)));
        return { faultKinds: `${rounds} × kill -9, restart` };
      },
      (cluster, result) => {
        const timings = result.stats.timings;
        expect(timings).toHaveLength(rounds);
        // Every kill left attempts behind, and every one of them was taken back and run again.
        for (const t of timings) expect(t.reassignmentMs.length).toBeGreaterThan(0);
        expect(timings.filter((t) => t.detectionMs !== null).length).toBeGreaterThanOrEqual(
          Math.ceil(rounds / 2),
        );
        for (const w of cluster.workersOf("d1")) expect(w.proc.running).toBe(true);
      },
    );
  },
};
