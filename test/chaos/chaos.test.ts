import { afterAll, describe, it } from "vitest";
import { stoppedWithTest } from "../helpers/reaper.js";
import { type ChaosRow, MODE, publish } from "./report.js";
import { clusterFailover } from "./scenarios/cluster-failover.js";
import type { Scenario } from "./scenarios/common.js";
import { coordinatorsFailover } from "./scenarios/coordinators-failover.js";
import { faultyNetwork } from "./scenarios/faulty-network.js";
import { handlerFaults } from "./scenarios/handler-faults.js";
import { hostileInput } from "./scenarios/hostile-input.js";
import { inputAgentKills } from "./scenarios/input-agent-kills.js";
import { inputKills } from "./scenarios/input-kills.js";
import { killCoordinator } from "./scenarios/kill-coordinator.js";
import { killDistributor } from "./scenarios/kill-distributor.js";
import { killWorker } from "./scenarios/kill-worker.js";
import { partition } from "./scenarios/partition.js";
import { pauseDistributor } from "./scenarios/pause-distributor.js";
import { pauseWorker } from "./scenarios/pause-worker.js";
import { redisFaults } from "./scenarios/redis-faults.js";
import { scheduledLimited } from "./scenarios/scheduled-limited.js";
import { standbyKill, standbyPause } from "./scenarios/standby-distributor.js";
import { steadyLoad } from "./scenarios/steady-load.js";
import { timedRated } from "./scenarios/timed-rated.js";
import { typeRunners } from "./scenarios/type-runners.js";
import { workflowKills } from "./scenarios/workflow-kills.js";

/**
 * The chaos suite: every fault of ARCHITECTURE.md's failure model, each against real
 * `bin/triad` processes and a real redis-server, each run checked as a whole by the history
 * checker (test/helpers/history/checker.ts); the table of the run is printed at the end.
 *
 * By default a short version of each (CI), two scenarios at a time (the chaos project's
 * maxConcurrency in vitest.config.ts; `--maxConcurrency 1` runs them one by one): about half of
 * a short scenario is its cluster starting up and its agents waiting out a timeout, so two
 * overlap well, and the checker's bounds keep 1.5 s of slack for a busy machine. One file, one
 * process: the ports of both scenarios' agents come from one free-port helper, which never hands
 * one out twice. CHAOS_LONG=1 (npm run chaos): thousands of tasks, Triad's default timing,
 * repeated faults, one scenario at a time so none steals another's CPU — the figures of
 * docs/RELIABILITY.md.
 */

const SCENARIOS: Scenario[] = [
  killWorker,
  killDistributor,
  killCoordinator,
  coordinatorsFailover,
  pauseWorker,
  pauseDistributor,
  redisFaults,
  clusterFailover,
  faultyNetwork,
  partition,
  hostileInput,
  handlerFaults,
  steadyLoad,
  workflowKills,
  inputKills,
  inputAgentKills,
  scheduledLimited,
  timedRated,
  standbyKill,
  standbyPause,
  typeRunners,
];

const suite = MODE === "short" ? describe.concurrent : describe;

suite(`chaos (${MODE})`, () => {
  const rows: ChaosRow[] = [];
  afterAll(() => {
    // In the order of SCENARIOS, whichever ended first.
    const order = (row: ChaosRow) => SCENARIOS.findIndex((s) => s.name === row.scenario);
    rows.sort((a, b) => order(a) - order(b));
    if (rows.length > 0) publish(rows, MODE);
  });
  for (const s of SCENARIOS) {
    // Every process the scenario starts is killed when it ends, also when it failed or timed out
    // while its own clean-up still waited (reaper.ts).
    it(
      s.title,
      ({ onTestFinished }) =>
        stoppedWithTest(onTestFinished, () => s.run({ mode: MODE, report: (row) => rows.push(row) })),
      s.timeoutMs[MODE],
    );
  }
});
