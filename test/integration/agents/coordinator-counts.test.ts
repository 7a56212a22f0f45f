import { describe, expect, it } from "vitest";
import { CoordinatorCounts } from "../../../src/agents/coordinator/coordinator-counts.js";
import { RedisClient } from "../../../src/index.js";
import { taskCounts } from "../../../src/server/dashboard/cluster-view.js";
import { FAST } from "../../helpers/cluster.js";
import { stopsPerTest, testEngines } from "../../helpers/engines.js";
import { shardsSplit, twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/** Bound of each wait: generous, for a loaded machine (the coordinators are PATIENT: dead after 3 s). */
const WAIT_MS = 30_000;

/**
 * The cluster's task counts (GET /agents' cluster_tasks, `triad status`, the dashboard) never go
 * down while the store keeps its data: a coordinator that dies, stops or restarts leaves its
 * counts in (scripts/coordinator-counts-1.lua, on every engine).
 */
describe.each(testEngines("coordinator-counts", { cluster: true }))(
  "the cluster's task counts on $name",
  (engine) => {
    const cleanups = stopsPerTest(engine);

    it("a coordinator whose counts were folded while it lived (frozen past its view) counts on without counting twice", async () => {
      const store = new RedisClient(engine.config());
      await store.connect();
      cleanups.push(() => store.disconnect());
      const a = { submitted: 5, completed: 3 };
      const countsA = new CoordinatorCounts({
        store,
        coordinatorId: "a",
        startedAt: "t0",
        counts: () => ({ ...a }),
      });
      const countsB = new CoordinatorCounts({
        store,
        coordinatorId: "b",
        startedAt: "t1",
        counts: () => ({ submitted: 1, completed: 1 }),
      });
      await countsA.tick(() => true);
      await countsB.tick(() => true);
      expect(countsB.totals()).toEqual({ submitted: 6, completed: 4 });
      // b no longer sees a alive: folds a's field into "retired"; the totals stay.
      await countsB.tick(() => false);
      await countsB.tick(() => false);
      expect(countsB.totals()).toEqual({ submitted: 6, completed: 4 });
      // a wakes and counts on: its next write finds its field folded and counts on under a new one.
      a.submitted = 8;
      a.completed = 6;
      await countsA.tick(() => true);
      await countsA.tick(() => true);
      await countsB.tick(() => true);
      expect(countsA.totals()).toEqual({ submitted: 9, completed: 7 });
      expect(countsB.totals()).toEqual({ submitted: 9, completed: 7 });
      // a folded between its write and its read (b's fold runs in between): seen in the read.
      a.completed = 7;
      const run = store.runScript.bind(store);
      let foldNext = true;
      store.runScript = async (script, keys, args) => {
        const reply = await run(script, keys, args);
        if (args[0] === "write" && String(args[1]).startsWith('["a"') && foldNext) {
          foldNext = false;
          await countsB.tick(() => false);
        }
        return reply;
      };
      await countsA.tick(() => true);
      expect(foldNext).toBe(false);
      expect(countsA.totals()).toEqual({ submitted: 9, completed: 8 });
      a.submitted = 10;
      await countsA.tick(() => true);
      await countsA.tick(() => true);
      await countsB.tick(() => true);
      expect(countsA.totals()).toEqual({ submitted: 11, completed: 8 });
      expect(countsB.totals()).toEqual({ submitted: 11, completed: 8 });
    });

    it("a coordinator killed takes none of its counts out of the totals the survivor shows, nor does one that starts later miss them", async () => {
      const { router, coordinator, c1, c2 } = await twoCoordinators(engine.config(), cleanups);
      // The shards split between the two first: a task is placed by its shard's owner, and its end
      // is reported there; had c2 owned none yet (its first lease round still to come), c1 would
      // have placed all 20 and c2 counted no end (seen once under load).
      await shardsSplit(c1, c2);
      // Accepted and awaited through c2, whose distributor it is: c2 counts the ends reported to it
      // (those it placed itself), and submitted all 20.
      const ids = Array.from({ length: 20 }, (_, i) => `counted-${i}`);
      for (const id of ids)
        expect(await c2.submitTask({ task_id: id, task_type: "echo", payload: {} })).toBe(true);
      const done = await Promise.all(ids.map((id) => c2.waitForTask(id, WAIT_MS)));
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
      await until("c2's counts are in c1's totals", () => taskCounts(c1).completed === ids.length, WAIT_MS);
      expect(c2.core.stats.completed).toBeGreaterThan(0);
      // c2 is killed (-9): its timers stop, its leases and view expire, its messages are lost.
      const lowest = { submitted: Number.POSITIVE_INFINITY, completed: Number.POSITIVE_INFINITY };
      const watch = setInterval(() => {
        const t = taskCounts(c1);
        lowest.submitted = Math.min(lowest.submitted, t.submitted);
        lowest.completed = Math.min(lowest.completed, t.completed);
      }, 5);
      try {
        router.frozen.add(c2.agentId);
        c2.core.stop();
        await c2.cluster.stop({ release: false });
        (c2 as unknown as { stopTimers(): void }).stopTimers();
        await until(
          "c1 lists c2 dead",
          () => c1.cluster.peers.dead().some((g) => g.view.id === c2.agentId),
          WAIT_MS,
        );
        // c1's next ticks fold c2's field into "retired".
        await until("c1 owns every shard", () => c1.cluster.leases.owned().length === 16, WAIT_MS);
        await new Promise((resolve) => setTimeout(resolve, 4 * FAST.heartbeatIntervalMs));
      } finally {
        clearInterval(watch);
      }
      expect(lowest).toEqual({ submitted: ids.length, completed: ids.length });
      expect(taskCounts(c1)).toMatchObject({ submitted: ids.length, completed: ids.length });
      // A coordinator that starts now never saw c2, and still counts what c2 counted.
      const c3 = coordinator("c3");
      cleanups.push(() => c3.cleanup());
      await c3.initialize();
      await until("c3 reads the cluster's counts", () => taskCounts(c3).completed === ids.length, WAIT_MS);
      expect(taskCounts(c3)).toMatchObject({ submitted: ids.length, completed: ids.length });
    }, 120_000);
  },
);
