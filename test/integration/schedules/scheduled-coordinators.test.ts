import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../../../src/index.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * Every coordinator fires schedules, and still each tick is one task: three coordinators fire
 * a schedule of one a second, one of them dies (its keeper stops mid-run), and the ticks go on
 * with no gap and no task twice.
 */
// On memory:// (the scripts run on Redis and Redis Cluster in schedules.test.ts).
describe.each(testEngines("scheduled-coordinators").filter((e) => e.name === "memory"))(
  "a schedule under three coordinators on $name",
  (engine) => {
    beforeAll(() => engine.setup(), 60_000);
    afterAll(() => engine.teardown());

    it("makes one task per tick, with no gap, while a coordinator dies", async () => {
      const router = new FaultyRouter();
      const run = Math.random().toString(36).slice(2, 7);
      const redis = engine.config();
      const coordinators = [1, 2, 3].map(
        (i) =>
          new CoordinatorAgent({
            agentId: `c${i}-${run}`,
            redis,
            a2a: { router },
            timing: FAST,
            schedules: { pollMs: 200 },
          }),
      );
      const commits = new Map<string, number>();
      const d = new DistributorAgent({
        agentId: `d1-${run}`,
        coordinatorId: coordinators[0]!.agentId,
        coordinators: coordinators.slice(1).map((c) => ({ id: c.agentId })),
        redis,
        a2a: { router },
        timing: FAST,
        events: { committed: (t) => commits.set(t.task_id, (commits.get(t.task_id) ?? 0) + 1) },
      });
      const w = new WorkerAgent({
        agentId: `w1-${run}`,
        distributorId: d.agentId,
        a2a: { router },
        timing: FAST,
      });
      // The process's own pulse: a gap in it is a stall of every coordinator here at once.
      const beats: number[] = [];
      const pulse = setInterval(() => beats.push(Date.now()), 50);
      try {
        await Promise.all(coordinators.map((c) => c.initialize()));
        await d.initialize();
        await w.initialize();
        const [c1, c2, c3] = coordinators as [CoordinatorAgent, CoordinatorAgent, CoordinatorAgent];
        const view = await c1.upsertSchedule({
          schedule_id: "tick",
          every_ms: 1000,
          task: { task_type: "echo", payload: { n: 1 } },
        });
        expect(view.next_runs).toHaveLength(5);
        const ticks = async () => (await c3.getSchedule("tick"))!.recent_task_ids;
        await until("two ticks fired", async () => (await ticks()).length >= 2, 10_000, 50);
        // c2 dies: its keeper stops wherever it was.
        c2.schedules.stop();
        const seen = (await ticks()).length;
        await until("two more ticks fired", async () => (await ticks()).length >= seen + 2, 10_000, 50);
        const ids = [...(await ticks())].reverse();
        expect(await c1.removeSchedule("tick")).toBe(true);
        expect(await c1.getSchedule("tick")).toBeNull();
        // Consecutive seconds: no tick lost, as a coordinator ran all along — unless this whole
        // process stood still for a while (a starved machine), when missed ticks collapse.
        clearInterval(pulse);
        const times = ids.map((id) => Date.parse(id.slice("tick@".length)));
        times.slice(1).forEach((t, k) => {
          if (t - times[k]! === 1000) return;
          const stalled = beats.some((b, j) => j > 0 && b > times[k]! && b - beats[j - 1]! > 500);
          expect(stalled, `a gap from ${ids[k]} to ${ids[k + 1]} while the process ran`).toBe(true);
        });
        const done = await Promise.all(ids.map((id) => c2.waitForTask(id, 10_000)));
        expect(done.map((t) => [t?.status, t?.result])).toEqual(ids.map(() => ["completed", { n: 1 }]));
        await until("every tick's commit is seen", () => ids.every((id) => commits.has(id)), 5_000);
        expect(ids.map((id) => commits.get(id))).toEqual(ids.map(() => 1));
      } finally {
        clearInterval(pulse);
        await w.cleanup().catch(() => {});
        await d.cleanup().catch(() => {});
        for (const c of coordinators) await c.cleanup().catch(() => {});
      }
    }, 30_000);

    it("after a restart with no coordinator up for a while, fires only the latest missed tick, at once", async () => {
      const redis = engine.config();
      const run = Math.random().toString(36).slice(2, 7);
      const start = (name: string) =>
        new CoordinatorAgent({ agentId: `${name}-${run}`, redis, timing: FAST, schedules: { pollMs: 200 } });
      const first = start("a");
      await first.initialize();
      const fired = (
        await first.upsertSchedule({ schedule_id: "gap", every_ms: 1000, task: { task_type: "echo" } })
      ).next_runs[0]!;
      await until(
        "the first tick fires",
        async () => (await first.getSchedule("gap"))!.last_tick === fired,
        10_000,
        50,
      );
      await first.cleanup(); // no coordinator for about three ticks: until the clock is that far on
      await until("three ticks' time has passed", () => Date.now() >= Date.parse(fired) + 3200, 10_000, 50);
      const second = start("b");
      try {
        await second.initialize();
        let view = (await second.getSchedule("gap"))!;
        await until(
          "the missed tick fires",
          async () => {
            view = (await second.getSchedule("gap"))!;
            return view.recent_task_ids.length >= 2;
          },
          10_000,
        );
        // One task for the ticks missed: the latest, by then at least three seconds on.
        const [latest, before] = view.recent_task_ids as [string, string];
        expect(before).toBe(`gap@${fired}`);
        expect(Date.parse(latest.slice(4)) - Date.parse(fired)).toBeGreaterThanOrEqual(3000);
        expect(await second.removeSchedule("gap")).toBe(true);
      } finally {
        await second.cleanup();
      }
    }, 30_000);
  },
);
