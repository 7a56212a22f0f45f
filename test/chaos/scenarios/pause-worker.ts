import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask } from "./common.js";

/**
 * SIGSTOP of a worker with attempts running, held past its heartbeat timeout: its distributor
 * declares it dead and takes the attempts back (their fences retired) to run elsewhere. Then
 * SIGCONT: the frozen handlers finish and the worker delivers their results — every one of
 * them refused by its fence, not by timing luck, and no task committed twice.
 */
export const pauseWorker: Scenario = {
  title:
    "SIGSTOP of a worker past its heartbeat timeout, then SIGCONT: its late results are refused by their fence",
  name: "SIGSTOP/SIGCONT worker",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const rounds = long ? 4 : 1;
    return runScenario(
      ctx,
      "SIGSTOP/SIGCONT worker",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: long ? [{ id: "w1" }, { id: "w2" }, { id: "w3" }] : [{ id: "w1" }, { id: "w2" }] },
      },
      async (cluster) => {
        const faults = async () => {
          for (let round = 0; round < rounds; round++) {
            const victim = ["w1", "w2", "w3"][round % 3]!;
            await cluster.waitUntil(
              () => cluster.inFlightOn(victim).length >= 3,
              20_000,
              `${victim} mid-task`,
            );
            const frozen = cluster.inFlightOn(victim);
            const pausedAt = Date.now();
            cluster.pause(victim);
            await cluster.waitForOp("dead", { target: victim }, pausedAt - 1, 30_000);
            // Every attempt it held has been taken back (its fence retired) before it wakes up —
            // or had ended already: a result it sent just before it froze may have landed since.
            const settledSince = (id: string) => {
              const events = cluster.history().filter((e) => e.task_id === id);
              const sent = events.findLast((e) => e.op === "dispatched" && e.worker === victim)?.t ?? 0;
              return events.some(
                (e) => e.t > sent && (e.op === "reassigned" || e.op === "committed" || e.op === "retried"),
              );
            };
            await cluster.waitUntil(
              () => frozen.every(settledSince),
              10_000,
              `the attempts of ${victim} taken back`,
            );
            cluster.resume(victim);
            await sleep(long ? 5000 : 1000);
          }
        };
        await cluster.loadUntil(faults(), long ? 40 : 30, (i) => slowTask("pw", i, 400 + ((i * 53) % 600)));
        return { faultKinds: `${rounds} × SIGSTOP past timeout, SIGCONT` };
      },
      (cluster, result) => {
        expect(result.stats.staleRejected).toBeGreaterThan(0);
        expect(result.stats.doubleCommits).toBe(0);
        // At-least-once execution, exactly-once commit: some handlers ran twice, every task ended once.
        expect(result.stats.executions).toBeGreaterThan(result.stats.completed);
        expect(cluster.agent("d1").proc.output).toMatch(/refused a stale result/);
      },
    );
  },
};
