import { expect } from "vitest";
import {
  type ChaosCluster,
  type ChaosTiming,
  DEFAULT_TIMING,
  FAST_TIMING,
  sleep,
} from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

/**
 * A steady load while faults repeat on a schedule, one after another, each fully played out
 * (a killed agent is declared dead and restarted, a paused one waits out its timeout and is
 * resumed) before a pause and the next. The short run goes through the faults of the worker and
 * distributor tiers and Redis connections; the long run through every kind of fault, for
 * thousands of tasks, with a mildly faulty network under it all.
 */

type Fault = { name: string; run: (cluster: ChaosCluster, t: ChaosTiming) => Promise<void> };

const killAndRestart = (id: string): Fault => ({
  name: `kill -9 ${id}`,
  run: async (cluster) => {
    const at = Date.now();
    await cluster.kill(id);
    if (cluster.agent(id).tier !== "coordinator")
      await cluster.waitForOp("dead", { target: id }, at - 1, 30_000);
    else await sleep(1000);
    await cluster.restart(id);
  },
});

const pauseAndResume = (id: string): Fault => ({
  name: `SIGSTOP ${id}`,
  run: async (cluster, t) => {
    const at = Date.now();
    cluster.pause(id);
    await cluster.waitForOp("dead", { target: id }, at - 1, 30_000);
    await sleep(Math.max(0, at + t.leaseTtlMs + 200 - Date.now()));
    cluster.resume(id);
  },
});

const dropConnections: Fault = {
  name: "CLIENT KILL",
  run: async (cluster) => {
    await cluster.dropRedisConnections();
  },
};

const restartRedis: Fault = {
  name: "Redis kill -9 + AOF restart",
  run: (cluster) => cluster.restartRedis({ hard: true, downMs: 1000 }),
};

const SHORT: Fault[] = [killAndRestart("w1"), pauseAndResume("w3"), dropConnections, killAndRestart("d2")];
const LONG: Fault[] = [
  killAndRestart("w1"),
  pauseAndResume("w4"),
  dropConnections,
  killAndRestart("d2"),
  pauseAndResume("w2"),
  restartRedis,
  pauseAndResume("d1"),
  killAndRestart("w5"),
  killAndRestart("c1"),
  killAndRestart("d1"),
  killAndRestart("w3"),
];

export const steadyLoad: Scenario = {
  title: "a steady load while faults repeat on a schedule: nothing lost, nothing committed twice",
  name: "steady load + scheduled faults",
  timeoutMs: { short: 150_000, long: 900_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const schedule = long ? LONG : SHORT;
    const injected: string[] = [];
    return runScenario(
      ctx,
      "steady load + scheduled faults",
      {
        timing,
        appendOnly: true,
        handlers: FIXTURE_HANDLERS,
        topology: long
          ? { d1: [{ id: "w1" }, { id: "w2" }, { id: "w3" }], d2: [{ id: "w4" }, { id: "w5" }] }
          : { d1: [{ id: "w1" }, { id: "w2" }], d2: [{ id: "w3" }] },
        ...(long ? { proxies: {} } : {}),
      },
      async (cluster) => {
        if (long) {
          for (const a of cluster.agents.values())
            a.proxy!.faults = { drop: 0.01, duplicate: 0.01, delay: 0.02, delayMs: [20, 500], reorder: 0.1 };
        }
        const faults = async () => {
          await sleep(long ? 3000 : 1000);
          for (const fault of schedule) {
            injected.push(fault.name);
            await fault.run(cluster, timing);
            await cluster.waitForAgents(30_000);
            await sleep(long ? 4000 : 300);
          }
        };
        // The short run's rate is arbitrary (a steady load, under its three workers' capacity of
        // ~100/s): at 50/s a run under load took 1270-1670 tasks, whose read-back through the API
        // alone took 5-13 s, and whose CPU slowed the restarts the faults wait for.
        await cluster.loadUntil(faults(), long ? 60 : 30, (i) => slowTask("sl", i, spreadMs(i, 400)));
        const proxied = [...cluster.agents.values()].reduce((n, a) => n + (a.proxy?.injected ?? 0), 0);
        if (long) for (const a of cluster.agents.values()) a.proxy!.faults = {};
        const kinds = [...new Set(injected)].join(", ");
        return {
          faults: proxied,
          faultKinds: `${injected.length} scheduled: ${kinds}${proxied ? `; ${proxied} network faults` : ""}`,
        };
      },
      (_cluster, result) => {
        expect(injected).toEqual(schedule.map((f) => f.name));
        expect(result.stats.lost).toBe(0);
      },
    );
  },
};
