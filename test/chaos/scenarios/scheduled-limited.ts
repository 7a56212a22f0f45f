import { expect } from "vitest";
import { type ChaosCluster, DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import type { HistoryEvent } from "../../helpers/history/history.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

const LIMIT = 3;
const ENDS = new Set(["committed", "retried", "reassigned", "assigned", "abandoned", "rejected"]);

/**
 * A schedule of one a second and a concurrency limit of 3 on the `slow` type, while a worker, a
 * distributor and the coordinator are killed -9 and restarted. Beyond the checker's rules,
 * counted from the history: never more than 3 attempts of `slow` in progress at once (an
 * attempt runs from its dispatch until the ledger ends it: committed, retried, taken back,
 * moved, or a later attempt started), each tick recorded once and completed, and the ticks
 * consecutive but where no coordinator ran (missed ticks collapse into the latest).
 */
export const scheduledLimited: Scenario = {
  title: "scheduled and limited work under faults: a 1/s schedule and concurrency:3 through kill -9 of w/d/c",
  name: "schedule 1/s + limit 3, kill -9 w/d/c",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    return runScenario(
      ctx,
      "schedule 1/s + limit 3, kill -9 w/d/c",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }, { id: "w2" }], d2: [{ id: "w3" }] },
      },
      async (cluster) => {
        await cluster.setLimit("slow", { concurrency: LIMIT });
        await cluster.api("POST", "/schedules", {
          schedule_id: "beat",
          every_ms: 1000,
          task: { task_type: "slow", payload: { ms: 50 } },
        });
        const faults = async () => {
          for (let round = 0; round < (long ? 3 : 1); round++) {
            await sleep(long ? 5000 : 600);
            await cluster.kill("w1");
            await cluster.restart("w1");
            await sleep(long ? 5000 : 600);
            const killedAt = Date.now();
            await cluster.kill("d1");
            await cluster.waitForOp("dead", { target: "d1" }, killedAt - 1, 30_000);
            await cluster.restart("d1");
            await sleep(long ? 5000 : 600);
            await cluster.kill("c1");
            await sleep(long ? 2000 : 500);
            await cluster.restart("c1");
            await cluster.waitForAgents(30_000);
          }
          await sleep(long ? 5000 : 1500);
        };
        // Well within what 3 at a time can run (~100 ms each: 30/s), so the limit, not the load, is tested.
        await cluster.loadUntil(faults(), long ? 10 : 5, (i) => slowTask("lim", i, spreadMs(i, 150)), 2);
        await cluster.api("DELETE", "/schedules/beat");
        return { faultKinds: "kill -9 + restart of w1, d1 and c1" };
      },
      async (cluster, result) => {
        const history = cluster.history();
        expect(
          mostInProgress(history, (id) => id.startsWith("lim-") || id.startsWith("beat@")),
        ).toBeLessThanOrEqual(LIMIT);
        await expectTicks(cluster, history);
        expect(result.stats.abandoned + result.stats.failed).toBe(0);
      },
    );
  },
};

/**
 * The most attempts of the matching tasks in progress at once, by the ledger's own events: an
 * attempt runs from its dispatch to the event that ends it (of its fence, or a move, or the next
 * attempt). A distributor killed -9 may have committed an attempt without living to record it:
 * such an attempt, with no end recorded, ended by that kill at the latest.
 */
function mostInProgress(history: HistoryEvent[], matches: (taskId: string) => boolean): number {
  type Attempt = { task: string; fence: number; by: string; start: number; end: number; killedAt?: number };
  const open = new Map<string, Attempt>();
  const attempts: Attempt[] = [];
  const close = (a: Attempt, t: number) => {
    a.end = t;
    open.delete(a.task);
  };
  for (const e of history) {
    if (e.op === "fault" && e.kind === "kill") {
      for (const a of open.values()) if (a.by === e.target) a.killedAt ??= e.t;
      continue;
    }
    if (e.task_id === undefined || !matches(e.task_id)) continue;
    const a = open.get(e.task_id);
    if (e.op === "dispatched") {
      if (a !== undefined) close(a, e.t);
      const next = {
        task: e.task_id,
        fence: e.fence ?? 0,
        by: e.agent,
        start: e.t,
        end: Number.POSITIVE_INFINITY,
      };
      open.set(e.task_id, next);
      attempts.push(next);
    } else if (a !== undefined && ENDS.has(e.op)) {
      // The end of an earlier attempt (a stale result refused, say) leaves this one running.
      if (e.op === "assigned" || e.op === "abandoned" || e.fence === undefined || e.fence >= a.fence)
        close(a, e.t);
    }
  }
  const edges = attempts.flatMap((a) => [
    [a.start, 1],
    [Number.isFinite(a.end) ? a.end : (a.killedAt ?? a.end), -1],
  ]) as Array<[number, number]>;
  edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]); // at the same instant an end goes first
  let running = 0;
  let most = 0;
  for (const [, d] of edges) {
    running += d;
    most = Math.max(most, running);
  }
  return most;
}

/** Each tick recorded once and completed; a gap between ticks only across a kill of the coordinator. */
async function expectTicks(cluster: ChaosCluster, history: HistoryEvent[]): Promise<void> {
  const recorded = new Map<string, number>();
  for (const e of history)
    if (e.op === "recorded" && e.task_id?.startsWith("beat@"))
      recorded.set(e.task_id, (recorded.get(e.task_id) ?? 0) + 1);
  const ids = [...recorded.keys()].sort();
  expect(ids.length).toBeGreaterThanOrEqual(5);
  expect([...recorded.values()].every((n) => n === 1)).toBe(true);
  for (const id of ids) expect((await cluster.finalRecord(id))?.task.status, id).toBe("completed");
  const kills = history.filter((e) => e.op === "fault" && e.target === "c1").map((e) => e.t);
  const times = ids.map((id) => Date.parse(id.slice("beat@".length)));
  for (let k = 1; k < times.length; k++) {
    if (times[k]! - times[k - 1]! === 1000) continue;
    const across = kills.some((t) => t > times[k - 1]! && t < times[k]!);
    expect(across, `ticks ${ids[k - 1]} -> ${ids[k]}: a gap with the coordinator up`).toBe(true);
  }
}
