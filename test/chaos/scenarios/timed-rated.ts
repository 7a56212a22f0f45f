import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING, sleep, type TaskSpec } from "../../helpers/chaos-cluster.js";
import type { HistoryEvent } from "../../helpers/history/history.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, spreadMs } from "./common.js";

/** Attempts of `slow` started per second, cluster-wide: below the load, so a backlog builds. */
const RATE = 8;
/**
 * How late a start may be logged after the store's step that took its slot or its turn (the
 * history's lines are written after the store's reply, on a loaded host): the slack of every
 * time check here.
 */
const SLACK_MS = 500;

type Timed = TaskSpec & { delay_ms?: number; expires_at?: string; priority?: number };

/**
 * Delayed, expiring and prioritized tasks through a rate limit on `slow` (a backlog builds: the
 * load is above the rate), while a distributor is killed -9 and the coordinator is killed -9
 * and, later, frozen (SIGSTOP) for a while. Beyond the checker's rules: no more than 3 x RATE
 * attempts started in any 2.5 s (the history's lines come after the store's steps, see SLACK_MS), no delayed task started
 * before its run_at, no expiring task started after its expires_at, every abandoned task an
 * expiring one ended "expired" without ever starting, and every other task completed.
 */
export const timedRated: Scenario = {
  title: "delays, expiries and priorities through a rate limit under kill -9 of d and c and a frozen c",
  name: "run_at/expires_at/priority + rate, kill d/c, stop c",
  // The cluster took up to 60 s to start on a loaded 2-core host, the run ~80 s more.
  timeoutMs: { short: 240_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    return runScenario(
      ctx,
      "run_at/expires_at/priority + rate, kill d/c, stop c",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }, { id: "w2" }], d2: [{ id: "w3" }] },
      },
      async (cluster) => {
        await cluster.setLimit("slow", { rate_per_s: RATE });
        const faults = async () => {
          for (let round = 0; round < (long ? 3 : 1); round++) {
            // The coordinator (the one that expires tasks) dies while a backlog waits for the rate.
            await sleep(long ? 5000 : 2500);
            await cluster.kill("c1");
            await sleep(long ? 3000 : 1500);
            await cluster.restart("c1");
            await cluster.waitForAgents(30_000);
            await sleep(long ? 3000 : 1000);
            const killedAt = Date.now();
            await cluster.kill("d1");
            await cluster.waitForOp("dead", { target: "d1" }, killedAt - 1, 30_000);
            await cluster.restart("d1");
            await sleep(long ? 3000 : 1000);
            cluster.pause("c1");
            await sleep(long ? 3000 : 1500);
            cluster.resume("c1");
          }
          await sleep(long ? 3000 : 1000);
        };
        // Twice the rate for a while: a backlog of some seconds, drained at the rate.
        await Promise.all([faults(), cluster.load(long ? 1200 : 160, RATE * 2, timedTask, 4)]);
        return { faultKinds: "kill -9 + restart of d1 and c1, SIGSTOP of c1" };
      },
      async (cluster, result) => {
        const history = cluster.history();
        const dispatched = history.filter((e) => e.op === "dispatched" && e.task_id !== undefined);
        const problems: string[] = [];
        // A start is logged after its slot's store step, by up to SLACK_MS: any
        // SLACK_MS + 2.5 s of store time holds at most 3 x RATE starts, so any 2.5 s of the history does.
        const most = mostWithin(dispatched, 2500);
        if (most > 3 * RATE) problems.push(`${most} attempts started within 2.5 s (rate ${RATE}/s)`);
        const firstStart = new Map<string, number>();
        for (const e of dispatched) if (!firstStart.has(e.task_id!)) firstStart.set(e.task_id!, e.t);
        const ids = [...new Set(history.filter((e) => e.op === "accepted").map((e) => e.task_id!))];
        let expired = 0;
        for (const id of ids) {
          const task = (await cluster.finalRecord(id))?.task;
          const started = firstStart.get(id);
          if (task === undefined) continue; // the checker has said it
          if (
            task.run_at !== undefined &&
            started !== undefined &&
            started < Date.parse(task.run_at) - SLACK_MS
          )
            problems.push(`${id} started at ${iso(started)}, before its run_at ${task.run_at}`);
          if (task.expires_at !== undefined && started !== undefined) {
            if (started > Date.parse(task.expires_at) + SLACK_MS)
              problems.push(`${id} started at ${iso(started)}, after its expires_at ${task.expires_at}`);
          }
          if (task.status === "abandoned") {
            expired++;
            if (!id.startsWith("ex-") || task.error !== "expired" || started !== undefined)
              problems.push(`${id} abandoned (${task.error}), started ${started !== undefined}`);
          } else if (task.status !== "completed") problems.push(`${id} ended ${task.status}`);
        }
        expect(problems).toEqual([]);
        expect(result.stats.failed).toBe(0);
        // The backlog made some expire and let others start in time: both paths were taken.
        expect(expired).toBeGreaterThan(0);
        expect(ids.filter((id) => id.startsWith("ex-") && firstStart.has(id)).length).toBeGreaterThan(0);
      },
    );
  },
};

/** Four kinds in turn: delayed, expiring soon, urgent (priority 9), plain. */
function timedTask(i: number): Timed {
  const payload = { n: i, ms: spreadMs(i, 150) };
  switch (i % 4) {
    case 0:
      return { task_id: `dl-${i}`, task_type: "slow", payload, delay_ms: 300 + ((i * 131) % 2500) };
    case 1: {
      const expiresAt = new Date(Date.now() + 800 + ((i * 97) % 2500)).toISOString();
      return { task_id: `ex-${i}`, task_type: "slow", payload, expires_at: expiresAt };
    }
    case 2:
      return { task_id: `hp-${i}`, task_type: "slow", payload, priority: 9 };
    default:
      return { task_id: `pl-${i}`, task_type: "slow", payload };
  }
}

/** The most dispatches in any window of `ms`. */
function mostWithin(events: HistoryEvent[], ms: number): number {
  const times = events.map((e) => e.t).sort((a, b) => a - b);
  let most = 0;
  for (let lo = 0, hi = 0; hi < times.length; hi++) {
    while (times[hi]! - times[lo]! >= ms) lo++;
    most = Math.max(most, hi - lo + 1);
  }
  return most;
}

const iso = (t: number) => new Date(t).toISOString();
