import { expect } from "vitest";
import {
  type ChaosCluster,
  DEFAULT_TIMING,
  FAST_TIMING,
  type TaskSpec,
} from "../../helpers/chaos-cluster.js";
import type { HistoryEvent } from "../../helpers/history/history.js";
import { now } from "../../helpers/history/history.js";
import { runScenario, type Scenario, spreadMs } from "./common.js";

/** Runs the one task type its RUNS_TYPE names. */
const RUNS_TYPE = new URL("../fixtures/runs-type.mjs", import.meta.url).pathname;

const A_WORKERS = ["wa1", "wa2"];
const B_WORKERS = ["wb1", "wb2"];

/** Task `i` of the load: `a` and `b` in turn. */
function typedTask(i: number): TaskSpec {
  const type = i % 2 === 0 ? "a" : "b";
  return { task_id: `tr-${type}-${i}`, task_type: type, payload: { n: i, ms: spreadMs(i, 400) } };
}

const typeOf = (taskId: string) => (taskId.startsWith("tr-a-") ? "a" : "b");

/** One outage of the `b` runners, as measured. */
type Outage = {
  what: string;
  /** The runners (or their distributor) declared dead: from here no `b` task may commit. */
  deadAt: number;
  /** The first restarted `b` worker said it was ready. */
  /** The restart was issued: until then no `b` task may commit. */
  restartAt: number;
  /** The runner was back: the restarted process's first history line (it started). */
  backAt: number;
  /** Per `b` task open when the runners came back: its commit, ms after backAt. */
  afterBackMs: number[];
  /** The same tasks: submission (or the kill, if later) to commit, ms. */
  waitedMs: number[];
};

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

function describeOutage(o: Outage): string {
  return (
    `${o.what}: ${o.afterBackMs.length} b tasks waited, done ${secs(median(o.afterBackMs))} median / ` +
    `${secs(Math.max(...o.afterBackMs))} max after the runner was back ` +
    `(${secs(median(o.waitedMs))} / ${secs(Math.max(...o.waitedMs))} in all)`
  );
}

/**
 * A heterogeneous cluster: d1's workers run task type `a` only, d2's run `b` only (each its own
 * --handlers module), under a steady load of both. Every `b` runner is killed -9, twice: first
 * both of d2's workers (d2 lives on and declares them dead), restarted on fresh ports (the old
 * one may be taken: a restart on it once failed with EADDRINUSE); then d2 alone, its workers
 * living on (the coordinator declares d2 dead), restarted under its id on its port. Meanwhile the `b` tasks must wait: none fails
 * as an unknown type, none runs on d1's workers, none commits until a `b` runner is back; then
 * every one completes. The `a` tasks run on as if nothing happened: each dispatched once, on
 * d1's workers, some committing during each outage. How long the waiting `b` tasks took once
 * their runner was back is the scenario's figure (docs/RELIABILITY.md).
 */
export const typeRunners: Scenario = {
  title:
    "kill -9 of every runner of a task type: its tasks wait (not failed, not run elsewhere) and complete once one is back",
  name: "task type runners killed",
  // Short: ~60-90 s at load 8-25; on a machine at load 27 its three restarted processes took
  // 37 s just to start, and the `b` backlog drained at that pace.
  timeoutMs: { short: 240_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    // Short runs: FAST timing with a 2 s timeout and lease. What is measured here is waiting, not
    // detection; with 1 s, on a loaded 2-core machine where three processes start at once, the
    // restarted agents were declared dead again and again, their attempts taken back before
    // their results landed, and the `b` tasks took minutes instead of seconds.
    const timing = long ? DEFAULT_TIMING : { ...FAST_TIMING, heartbeatTimeoutMs: 2000, leaseTtlMs: 2000 };
    const outages: Outage[] = [];
    /** Waits until `count` `b` tasks were submitted after `since` (the outage has a load of its own). */
    const bSubmittedSince = (cluster: ChaosCluster, since: number, count: number) =>
      cluster.waitUntil(
        () =>
          cluster.history().filter((e) => e.op === "accepted" && e.t > since && typeOf(e.task_id!) === "b")
            .length >= count,
        30_000,
        `${count} b tasks accepted during the outage`,
      );
    /** Measures the `b` tasks open at `backAt` once every one of them has committed. */
    const measure = async (
      cluster: ChaosCluster,
      what: string,
      killedAt: number,
      deadAt: number,
      restartAt: number,
      restarted: string[],
    ) => {
      // The restarted processes' first lines: the earliest is when a runner was back (what the
      // test itself sees of it, the `ready` line, comes late on a loaded machine).
      const started = cluster
        .history()
        .filter((e) => e.op === "started" && e.t > restartAt && restarted.includes(e.agent));
      expect(started.length, `a started line of each of ${restarted.join(", ")}`).toBe(restarted.length);
      const backAt = Math.min(...started.map((e) => e.t));
      const history = cluster.history();
      const submitted = new Map<string, number>();
      const committedBefore = new Set<string>();
      for (const e of history) {
        if (e.task_id === undefined || typeOf(e.task_id) !== "b") continue;
        if (e.op === "submitted" && e.t < backAt && !submitted.has(e.task_id)) submitted.set(e.task_id, e.t);
        if (e.op === "committed" && e.t < backAt) committedBefore.add(e.task_id);
      }
      const open = [...submitted.keys()].filter((id) => !committedBefore.has(id));
      const commitOf = new Map<string, HistoryEvent>();
      await cluster.waitUntil(
        () => {
          // A commit whose line was lost with a process killed -9 (between the script's reply
          // and its line, or before the reply) shows when the worker's resent result is found
          // committed already (`resent`): its end is in the store by then.
          for (const e of cluster.history())
            if (
              (e.op === "committed" || e.op === "resent") &&
              e.task_id !== undefined &&
              !commitOf.has(e.task_id)
            )
              commitOf.set(e.task_id, e);
          return open.every((id) => commitOf.has(id));
        },
        120_000,
        `the ${open.length} b tasks open when the runner came back to commit`,
      );
      outages.push({
        what,
        deadAt,
        restartAt,
        backAt,
        afterBackMs: open.map((id) => commitOf.get(id)!.t - backAt),
        waitedMs: open.map((id) => commitOf.get(id)!.t - Math.max(killedAt, submitted.get(id)!)),
      });
      if (process.env.CHAOS_DEBUG) process.stderr.write(`type runners: ${describeOutage(outages.at(-1)!)}\n`);
    };
    const waitingLoad = long ? 60 : 8;
    return runScenario(
      ctx,
      "task type runners killed",
      {
        timing,
        topology: {
          d1: A_WORKERS.map((id) => ({ id, handlers: RUNS_TYPE, env: { RUNS_TYPE: "a" } })),
          d2: B_WORKERS.map((id) => ({ id, handlers: RUNS_TYPE, env: { RUNS_TYPE: "b" } })),
        },
      },
      async (cluster) => {
        const faults = async () => {
          // 1. Every `b` worker killed -9; d2 lives on and declares them dead.
          await cluster.waitUntil(
            () => B_WORKERS.every((w) => cluster.inFlightOn(w).length >= 2),
            20_000,
            "every b worker mid-task",
          );
          let killedAt = now();
          await Promise.all(B_WORKERS.map((w) => cluster.kill(w)));
          const deaths = await Promise.all(
            B_WORKERS.map((w) => cluster.waitForOp("dead", { target: w }, killedAt - 1, 20_000)),
          );
          let deadAt = Math.max(...deaths.map((e) => e.t));
          await bSubmittedSince(cluster, deadAt, waitingLoad);
          let restartAt = now();
          await cluster.restart(B_WORKERS, { freshPort: true });
          await measure(cluster, "workers", killedAt, deadAt, restartAt, B_WORKERS);

          // 2. d2 alone killed -9, its workers living on (they finish what they run and keep
          // their results until d2 is back); the coordinator declares d2 dead. d2 restarted under
          // its id on its port.
          await cluster.waitUntil(
            () =>
              cluster.heldBy("d2").length >= 4 && B_WORKERS.some((w) => cluster.inFlightOn(w).length >= 1),
            20_000,
            "d2 holding b tasks, some running",
          );
          killedAt = now();
          // Not `detect`: no other distributor runs `b`, so the `b` tasks d2 held cannot move
          // within the checker's reassignment bound; they wait for d2 (asserted below instead).
          await cluster.kill("d2", { detect: false });
          deadAt = (await cluster.waitForOp("dead", { target: "d2" }, killedAt - 1, 20_000)).t;
          await bSubmittedSince(cluster, deadAt, waitingLoad);
          restartAt = now();
          await cluster.restart("d2");
          await measure(cluster, "d2 alone", killedAt, deadAt, restartAt, ["d2"]);
        };
        await cluster.loadUntil(faults(), long ? 60 : 16, typedTask);
        return {
          faultKinds: `kill -9 of every b worker (restarted on fresh ports), then of d2 alone (restarted on its port) (${outages.map(describeOutage).join("; ")})`,
        };
      },
      (cluster, result) => {
        expect(outages).toHaveLength(2);
        // Every task accepted completed: no `b` task failed as an unknown type, none gave up.
        expect([result.stats.failed, result.stats.abandoned]).toEqual([0, 0]);
        const history = cluster.history();
        for (const e of history) {
          if (e.task_id === undefined || !e.task_id.startsWith("tr-")) continue;
          const own = typeOf(e.task_id) === "a" ? A_WORKERS : B_WORKERS;
          // Each type ran on its own runners only (dispatched there, executed there).
          if (e.op === "dispatched") expect(own, JSON.stringify(e)).toContain(e.worker);
          if (e.op === "executed") expect(own, JSON.stringify(e)).toContain(e.agent);
          if (e.op === "committed") expect(e.status, JSON.stringify(e)).toBe("completed");
        }
        for (const o of outages) {
          // The `b` tasks waited: some were open when the runner came back, and none committed
          // while every runner was dead.
          expect(o.afterBackMs.length, o.what).toBeGreaterThan(0);
          const during = history.filter((e) => e.op === "committed" && e.t > o.deadAt && e.t < o.restartAt);
          expect(
            during.filter((e) => typeOf(e.task_id!) === "b"),
            o.what,
          ).toEqual([]);
          // ... while the `a` tasks went on committing.
          expect(during.filter((e) => typeOf(e.task_id!) === "a").length, o.what).toBeGreaterThan(0);
        }
        // The `a` tasks were untouched by the faults: each dispatched once, its one attempt
        // committed — unless d1 or an `a` worker was itself declared dead (a machine so loaded
        // that its heartbeats came late), which moves `a` attempts as it should.
        const aDispatches = new Map<string, number>();
        for (const e of history)
          if (e.op === "dispatched" && e.task_id?.startsWith("tr-a-"))
            aDispatches.set(e.task_id, (aDispatches.get(e.task_id) ?? 0) + 1);
        expect(aDispatches.size).toBeGreaterThan(0);
        const aSide = new Set(["d1", ...A_WORKERS]);
        if (!history.some((e) => e.op === "dead" && aSide.has(e.target ?? "")))
          expect([...aDispatches].filter(([, n]) => n !== 1)).toEqual([]);
        for (const w of [...A_WORKERS, ...B_WORKERS, "d1", "d2"])
          expect(cluster.agent(w).proc.running).toBe(true);
      },
    );
  },
};
