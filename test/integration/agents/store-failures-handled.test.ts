import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HandlerContext, Task } from "../../../src/index.js";
import { CoordinatorAgent } from "../../../src/index.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { failingStore, unhandledRejections } from "../../helpers/failing-store.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * Every store command a coordinator sends may fail (a Redis Cluster failing over answers
 * CLUSTERDOWN): whichever of its paths sent it — a client's call, a monitor tick, news to the
 * other coordinators, a schedule, a limit, a workflow — handles the rejection. A promise of
 * one left unhandled ended the process ("unhandled rejection: the process ends"). Here the
 * commands of the coordinators and of the distributor fail in windows (all of them) and one in
 * three between, while two coordinators (and others coming and going), a distributor and its
 * worker run a varied workload; no rejection may go unhandled. The store wrapper makes each
 * refusal's error where the command is sent: an unhandled one's stack names its caller.
 */
describe.each(testEngines("store-failures-handled"))("store commands failing on $name", (engine) => {
  beforeAll(() => engine.setup(), 60_000);
  afterAll(() => engine.teardown());

  it("leaves no rejection unhandled in the coordinators", async () => {
    const handlers = {
      echo: (t: Task) => t.payload,
      slow: async (t: Task) => {
        await sleep(50);
        return t.payload;
      },
      ask: (_t: Task, ctx: HandlerContext) =>
        ctx.inputs.length > 0 ? { got: ctx.inputs } : ctx.requestInput("?"),
      boom: () => {
        throw new Error("boom");
      },
    };
    const cluster = new TestCluster(engine.config(), { handlers, concurrency: 4 });
    const unhandled = unhandledRejections();
    let mode: "none" | "all" | "some" = "none";
    let n = 0;
    let ended: unknown;
    const failing = () => mode === "all" || (mode === "some" && n++ % 3 === 0);
    let c2: CoordinatorAgent | undefined;
    const more: CoordinatorAgent[] = [];
    try {
      await cluster.startOne(30_000);
      const c = cluster.coordinator;
      c2 = new CoordinatorAgent({
        agentId: cluster.id("c2"),
        redis: cluster.redis,
        a2a: { router: cluster.router },
        timing: FAST,
      });
      await c2.initialize();
      await c.setLimit("slow", { concurrency: 2 });
      await c.upsertSchedule({ schedule_id: "tick", every_ms: 1000, task: { task_type: "echo" } });
      // The distributors' commands fail alike (what the coordinators hear of them changes too).
      const stores = [c.store, c2.store, ...[...cluster.distributors.values()].map((d) => d.store)];
      const faults = stores.map((store) => failingStore(store, failing));
      const ids: string[] = [];
      const quiet = (p: Promise<unknown>) => p.catch(() => null);
      const deadline = performance.now() + 8_000;
      for (let round = 0; performance.now() < deadline; round++) {
        mode = round % 4 === 0 ? "all" : round % 4 === 2 ? "some" : "none";
        const at = [c, c2][round % 2]!;
        const id = (kind: string) => `${kind}-${round}`;
        for (const kind of ["echo", "slow", "ask", "boom"]) {
          ids.push(id(kind));
          void quiet(at.submitTask({ task_id: id(kind), task_type: kind, payload: { round } }));
        }
        void quiet(at.submitTask({ task_id: id("after"), task_type: "echo", depends_on: [id("echo")] }));
        void quiet(at.waitForTask(id("echo"), 500));
        void quiet([c2, c][round % 2]!.waitForTask(id("slow"), 500));
        if (round % 3 === 1) void quiet(at.cancelTask(id("slow")));
        if (round > 1) void quiet(at.provideInput(`ask-${round - 2}`, { round }));
        void quiet(at.listLimits());
        void quiet(at.listSchedules());
        // Coordinators come (their start's commands failing too) and go (their stop's too).
        if (round % 5 === 2) {
          const c3 = new CoordinatorAgent({
            agentId: cluster.id(`c3-${round}`),
            redis: cluster.redis,
            a2a: { router: cluster.router },
            timing: FAST,
          });
          failingStore(c3.store, failing);
          more.push(c3);
          void quiet(c3.initialize());
        }
        if (round % 5 === 4) void quiet(more.shift()!.cleanup());
        await sleep(150);
      }
      mode = "none";
      expect(faults.reduce((s, f) => s + f.refused, 0)).toBeGreaterThan(0);
      // Every coordinator's timers run a few times with the store back (a retry that fails again would show).
      await until(
        "the store is back for both coordinators",
        () => !c.store.outage.down && !c2!.store.outage.down,
        30_000,
      );
      // The workload ran: a task submitted between the failures ends (the timers meanwhile run with the store back).
      ended = (await c.waitForTask("echo-1", 60_000))?.status;
    } finally {
      for (const c3 of more) await c3.cleanup().catch(() => {});
      await c2?.cleanup().catch(() => {});
      await cluster.stop();
      unhandled.stop();
    }
    expect(unhandled.seen).toEqual([]);
    expect(ended).toBe("completed");
  }, 120_000);
});
