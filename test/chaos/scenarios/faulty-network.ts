import { expect } from "vitest";
import { DEFAULT_TIMING, FAST_TIMING } from "../../helpers/chaos-cluster.js";
import type { FaultCounts } from "../../helpers/faults.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask, spreadMs } from "./common.js";

/**
 * Every message between tiers crosses a fault proxy (test/helpers/faults.ts) that drops,
 * duplicates, delays (so reorders across requests), shuffles, refuses whole POSTs and loses
 * replies after delivering them. Nothing is lost — a lost assignment is found again in Redis,
 * a lost dispatch is taken back unconfirmed, a lost result is sent again — duplicates are
 * handled once (request ids), and late deliveries of old attempts are fenced off.
 */
const LABELS: Partial<Record<keyof FaultCounts, string>> = {
  dropped: "dropped",
  duplicated: "duplicated",
  delayed: "delayed",
  reordered: "reordered",
  failedPosts: "failed POSTs",
  lostReplies: "lost replies",
};

export const faultyNetwork: Scenario = {
  title: "dropped, duplicated, delayed and reordered messages between every tier: every task ends once",
  name: "faulty network (drop/dup/delay/reorder)",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const counts: FaultCounts[] = [];
    return runScenario(
      ctx,
      "faulty network (drop/dup/delay/reorder)",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }], d2: [{ id: "w2" }] },
        // Before the load starts the proxies pass everything, so the cluster comes up cleanly.
        proxies: {},
      },
      async (cluster) => {
        for (const a of cluster.agents.values()) {
          a.proxy!.faults = {
            drop: 0.05,
            duplicate: 0.05,
            delay: 0.1,
            delayMs: [20, long ? 1500 : 600],
            reorder: 0.3,
            failPost: 0.03,
            loseReply: 0.03,
          };
        }
        await cluster.load(long ? 3000 : 200, long ? 50 : 60, (i) => slowTask("fn", i, spreadMs(i, 300)));
        await cluster.settle(long ? 180_000 : 25_000);
        for (const a of cluster.agents.values()) {
          counts.push({ ...a.proxy!.counts });
          a.proxy!.faults = {};
        }
        const total = (k: keyof FaultCounts) => counts.reduce((n, c) => n + c[k], 0);
        const kinds = [
          "dropped",
          "duplicated",
          "delayed",
          "reordered",
          "failedPosts",
          "lostReplies",
        ] as const;
        return {
          faults: kinds.reduce((n, k) => n + total(k), 0),
          faultKinds: kinds.map((k) => `${total(k)} ${LABELS[k]}`).join(", "),
        };
      },
      (cluster) => {
        const total = (k: keyof FaultCounts) => counts.reduce((n, c) => n + c[k], 0);
        for (const k of [
          "dropped",
          "duplicated",
          "delayed",
          "reordered",
          "failedPosts",
          "lostReplies",
        ] as const)
          expect(total(k), k).toBeGreaterThan(0);
        // Receivers saw the duplicates (request ids already accepted) and took each message once.
        const duplicates = [...cluster.agents.keys()].reduce((n, id) => {
          const a2a = cluster.lastStatsOf(id)?.a2a as { duplicates: number } | undefined;
          return n + (a2a?.duplicates ?? 0);
        }, 0);
        expect(duplicates).toBeGreaterThan(0);
      },
    );
  },
};
