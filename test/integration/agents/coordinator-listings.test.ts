import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, type RedisConfig, WorkerAgent } from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { coordinatorMetrics } from "../../../src/server/metrics.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * Several coordinators (SPEC "Several coordinators"): every coordinator lists the whole cluster,
 * and lists a dead agent as the one that heard it lists it — a graceful stop as stopped, a crash
 * as a crash — for the dead-agent retention.
 */

type Listed = { id: string; tier: string; status: string; stopped?: boolean };

class TwoCoordinators {
  readonly router = new FaultyRouter();
  readonly run = Math.random().toString(36).slice(2, 7);
  readonly agents: Array<CoordinatorAgent | DistributorAgent | WorkerAgent> = [];

  constructor(readonly redis: RedisConfig) {}

  id(name: string): string {
    return `${name}-${this.run}`;
  }

  async coordinator(name: string, retentionMs = 600_000): Promise<CoordinatorAgent> {
    const c = new CoordinatorAgent({
      agentId: this.id(name),
      redis: this.redis,
      a2a: { router: this.router },
      timing: { ...FAST, deadRetentionMs: retentionMs },
    });
    await c.initialize();
    this.agents.push(c);
    return c;
  }

  /** A distributor heartbeating `home` only, with one worker. */
  async distributor(name: string, home: CoordinatorAgent): Promise<[DistributorAgent, WorkerAgent]> {
    const d = new DistributorAgent({
      agentId: this.id(name),
      coordinatorId: home.agentId,
      redis: this.redis,
      a2a: { router: this.router },
      timing: FAST,
    });
    await d.initialize();
    const w = new WorkerAgent({
      agentId: this.id(`${name}-w`),
      distributorId: d.agentId,
      a2a: { router: this.router },
      timing: FAST,
    });
    await w.initialize();
    this.agents.push(d, w);
    return [d, w];
  }

  listed(by: CoordinatorAgent, name: string): Listed | undefined {
    return agentList(by).find((a) => a.id === this.id(name)) as Listed | undefined;
  }

  async stop(): Promise<void> {
    for (const a of [...this.agents].reverse()) await a.cleanup().catch(() => {});
  }
}

describe.each(testEngines("coordinator-listings"))(
  "several coordinators list dead agents ($name)",
  (engine) => {
    let set: TwoCoordinators | undefined;
    beforeAll(() => engine.setup(), 60_000);
    afterEach(async () => {
      await set?.stop();
      set = undefined;
    });
    afterAll(() => engine.teardown());

    it("a distributor heard through another coordinator that stops gracefully is listed as stopped there too", async () => {
      set = new TwoCoordinators(engine.config());
      const a = await set.coordinator("a");
      const b = await set.coordinator("b");
      const [d, w] = await set.distributor("d", b);
      await until("a lists d through b", () => set!.listed(a, "d")?.status === "idle");
      await until("a lists d's worker", () => set!.listed(a, "d-w") !== undefined);
      await w.cleanup();
      await d.shutdown();
      // Under load b may first time d out (a stall between its last heartbeat and its
      // `stopping` one, sent once its lease is given up) and list it dead as a crash for a moment;
      // the stop, when it comes, is what each must end up listing.
      const stoppedDead = (by: CoordinatorAgent) => {
        const l = set!.listed(by, "d");
        return l?.status === "dead" && l.stopped === true;
      };
      await until("b lists d dead, stopped", () => stoppedDead(b));
      expect(set.listed(b, "d")).toMatchObject({ status: "dead", stopped: true });
      await until("a lists d dead, stopped", () => stoppedDead(a));
      expect(set.listed(a, "d")).toMatchObject({ status: "dead", stopped: true });
    });

    it("a distributor that stopped gracefully is listed as stopped by a restarted coordinator and by one started after", async () => {
      set = new TwoCoordinators(engine.config());
      const a = await set.coordinator("a");
      const [d, w] = await set.distributor("d", a);
      await until("a lists d's worker", () => set!.listed(a, "d-w") !== undefined);
      await w.cleanup();
      await d.shutdown();
      await until("a lists d dead", () => set!.listed(a, "d")?.status === "dead");
      expect(set.listed(a, "d")).toMatchObject({ status: "dead", stopped: true });
      // The mark is in the store, beside d's registry entry (distributor-registry-1.lua).
      await a.cleanup();
      const restarted = await set.coordinator("a");
      const later = await set.coordinator("c");
      for (const c of [restarted, later]) {
        await until(`${c.agentId} lists d dead`, () => set!.listed(c, "d")?.status === "dead", 15_000);
        expect(set.listed(c, "d")).toMatchObject({ status: "dead", stopped: true });
      }
    });

    it("a coordinator that declared a distributor dead by its silence lists it stopped once another heard it stop", async () => {
      set = new TwoCoordinators(engine.config());
      const a = await set.coordinator("a");
      const b = await set.coordinator("b");
      const [d, w] = await set.distributor("d", a);
      await until("b lists d through a", () => set!.listed(b, "d")?.status === "idle");
      // b hears nothing more of d through a's view (as if that view were lost): only its silence.
      b.core.directory.heardElsewhere = () => {};
      await w.cleanup();
      await d.shutdown();
      await until("a lists d dead", () => set!.listed(a, "d")?.status === "dead");
      expect(set.listed(a, "d")).toMatchObject({ status: "dead", stopped: true });
      await until("b lists d dead", () => set!.listed(b, "d")?.status === "dead", 15_000);
      await until("b lists d stopped", () => set!.listed(b, "d")?.stopped === true, 15_000);
    });

    it("a coordinator that crashes is listed dead by the others, one that stops gracefully as stopped, each forgotten after the retention", async () => {
      set = new TwoCoordinators(engine.config());
      const a = await set.coordinator("a", 2_000);
      const b = await set.coordinator("b", 2_000);
      const c = await set.coordinator("c", 2_000);
      await until("a lists b and c alive", () =>
        ["b", "c"].every((n) => set!.listed(a, n)?.status === "idle"),
      );
      // b as kill -9: its timers stop, its view and leases are left to expire.
      set.router.frozen.add(b.agentId);
      b.core.stop();
      await b.cluster.stop({ release: false });
      (b as unknown as { stopTimers(): void }).stopTimers();
      await until("a lists b dead", () => set!.listed(a, "b")?.status === "dead");
      expect(set.listed(a, "b")).not.toHaveProperty("stopped");
      await until("c lists b dead", () => set!.listed(c, "b")?.status === "dead");
      expect(set.listed(c, "b")).toMatchObject({ tier: "coordinator", shards: [] });
      expect(a.cluster.peers.members()).toEqual([a.agentId, c.agentId].sort());
      const m = await coordinatorMetrics(a).metrics();
      expect(m).toContain(`triad_agents{tier="coordinator",status="dead"} 1`);

      await c.cleanup();
      await until("a lists c dead", () => set!.listed(a, "c")?.status === "dead");
      expect(set.listed(a, "c")).toMatchObject({ status: "dead", stopped: true });
      expect(a.cluster.peers.members()).toEqual([a.agentId]);

      await until(
        "a forgets b and c",
        () => set!.listed(a, "b") === undefined && set!.listed(a, "c") === undefined,
      );
      expect(
        agentList(a)
          .filter((x) => x.tier === "coordinator")
          .map((x) => x.id),
      ).toEqual([a.agentId]);
    });
  },
);
