import { readFileSync } from "node:fs";
import { expect } from "vitest";
import { type ChaosCluster, DEFAULT_TIMING, FAST_TIMING } from "../../helpers/chaos-cluster.js";
import { HealthFront, startStandby } from "../../helpers/chaos-front.js";
import type { HistoryEvent } from "../../helpers/history/history.js";
import type { TriadProcess } from "../../helpers/processes.js";
import { START_UP_MS } from "../../helpers/processes.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, type ScenarioContext, slowTask } from "./common.js";

/**
 * A standby distributor: a second `triad distributor --id d1` waits (GET /health 503) while the
 * first holds d1's lease; d1's workers reach d1 through a front that routes to whichever answers
 * /health 200 (a load balancer's health check). Under steady load the active d1 is killed
 * (kill -9) or frozen (SIGSTOP): the standby takes the lease and serves d1, no task is lost or
 * ended twice. A frozen one woken after the takeover (SIGCONT) commits nothing from then on: its
 * attempts were fenced off.
 */

type Fault = "kill" | "pause";

/** The events one process recorded (its own --history file). */
function eventsOf(file: string): HistoryEvent[] {
  let text = "";
  try {
    text = readFileSync(file, "utf8");
  } catch {
    return [];
  }
  return text
    .split("\n")
    .filter((l) => l.trim() !== "")
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as HistoryEvent];
      } catch {
        return []; // a line cut by kill -9
      }
    });
}

function historyFileOf(cluster: ChaosCluster, id: string): string {
  const a = cluster.agent(id);
  return a.proc.child.spawnargs[a.proc.child.spawnargs.indexOf("--history") + 1]!;
}

async function run(ctx: ScenarioContext, fault: Fault, name: string): Promise<void> {
  const long = ctx.mode === "long";
  const timing = long ? DEFAULT_TIMING : FAST_TIMING;
  const front = await HealthFront.start();
  let standby: { proc: TriadProcess; url: string; history: string } | undefined;
  let takeoverMs = 0;
  let takenAt = 0;
  let oldHistory = "";
  try {
    await runScenario(
      ctx,
      name,
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        fronts: { d1: front },
        topology: { d1: [{ id: "w1" }, { id: "w2" }] },
      },
      async (cluster) => {
        const d1 = cluster.agent("d1");
        oldHistory = historyFileOf(cluster, "d1");
        standby = await startStandby(cluster, d1);
        front.add(standby.url);
        const s = standby;
        const faults = async () => {
          const running = () => cluster.workersOf("d1").flatMap((w) => cluster.inFlightOn(w.id));
          await cluster.waitUntil(() => running().length >= 3, 20_000, "d1 with attempts running");
          const at = Date.now();
          // Not judged by the checker's detection bounds: with d1's one standby and no other
          // distributor, d1's tasks wait for the takeover, measured here.
          if (fault === "kill") await cluster.kill("d1", { detect: false });
          else cluster.pause("d1", { detect: false });
          await s.proc.waitFor(/^ready distributor d1 /m, START_UP_MS);
          takenAt = Date.now();
          takeoverMs = takenAt - at;
          process.stderr.write(`chaos ${name}: standby ready ${takeoverMs} ms after the fault\n`);
          if (fault === "pause") cluster.resume("d1");
          // The new d1 serves: it commits tasks its workers ran after the takeover.
          await cluster.waitUntil(
            () => eventsOf(s.history).filter((e) => e.op === "committed").length >= 10,
            30_000,
            "the new d1 committing",
          );
        };
        await cluster.loadUntil(faults(), long ? 40 : 30, (i) => slowTask("sb", i, 200 + ((i * 53) % 400)));
        return {
          faultKinds:
            fault === "kill"
              ? "kill -9 active d1, standby waits"
              : "SIGSTOP active d1, standby waits, SIGCONT",
        };
      },
      (_cluster, result) => {
        expect(result.stats.doubleCommits).toBe(0);
        // The woken process committed nothing once the standby held the lease.
        const late = eventsOf(oldHistory).filter((e) => e.op === "committed" && e.t > takenAt);
        expect(late, JSON.stringify(late.slice(0, 5))).toEqual([]);
      },
    );
  } finally {
    await standby?.proc.kill();
    await front.close();
  }
}

export const standbyKill: Scenario = {
  title: "kill -9 of the active distributor while a standby waits under its id: the standby takes over",
  name: "standby: kill -9 active",
  timeoutMs: { short: 180_000, long: 600_000 },
  run: (ctx) => run(ctx, "kill", "standby: kill -9 active"),
};

export const standbyPause: Scenario = {
  title:
    "SIGSTOP of the active distributor while a standby waits: the standby takes over, the woken one commits nothing",
  name: "standby: SIGSTOP active",
  timeoutMs: { short: 180_000, long: 600_000 },
  run: (ctx) => run(ctx, "pause", "standby: SIGSTOP active"),
};
