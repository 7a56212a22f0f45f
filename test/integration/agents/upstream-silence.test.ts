import { afterEach, describe, expect, it } from "vitest";
import { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../../../src/index.js";
import { captureLogger, type LogEntry } from "../../helpers/capture-logger.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { uniquePrefix } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * A worker whose distributor stops answering (gone for good, or frozen), or a distributor whose
 * coordinator does, says so once, at warn, when the silence passes the heartbeat timeout — not at
 * every heartbeat — and once more when it answers again. Neither said anything at all.
 */
describe("a worker whose distributor does not answer", () => {
  const stops: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const stop of stops.reverse()) await stop().catch(() => {});
    stops.length = 0;
  });

  it("warns once that its distributor does not answer, and once when it is back", async () => {
    const router = new FaultyRouter();
    const run = Math.random().toString(36).slice(2, 7);
    const redis = { url: `memory://orphaned-worker-${process.pid}-${run}`, keyPrefix: uniquePrefix("orph") };
    const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: { router }, timing: FAST });
    await c.initialize();
    stops.push(() => c.cleanup());
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      redis,
      a2a: { router },
      timing: FAST,
    });
    await d.initialize();
    stops.push(() => d.cleanup());
    const logs: LogEntry[] = [];
    const w = new WorkerAgent({
      agentId: `w-${run}`,
      distributorId: d.agentId,
      a2a: { router },
      timing: FAST,
      logger: captureLogger(logs),
    });
    await w.initialize();
    stops.push(() => w.cleanup());
    await until("the distributor knows the worker", () => d.core.registry.alive().length === 1);

    const silent = () =>
      logs.filter((e) => e.level === "warn" && e.msg.startsWith(`distributor ${d.agentId} does not answer`));
    const back = () => logs.filter((e) => e.msg === `distributor ${d.agentId} answers again`);
    router.frozen.add(d.agentId);
    await until("the worker warns of the silence", () => silent().length > 0);
    // Many more heartbeats go unanswered: still the one warning.
    const dropped = router.faultDrops;
    await until("ten more messages are lost", () => router.faultDrops >= dropped + 10);
    expect(silent()).toHaveLength(1);
    expect(silent()[0]!.fields).toMatchObject({ distributor: d.agentId });
    expect(back()).toHaveLength(0);

    router.frozen.delete(d.agentId);
    await until("the worker says its distributor is back", () => back().length > 0);
    expect(back()[0]!.level).toBe("warn");
    const answered = router.faultDrops;
    await until(
      "a few heartbeats land",
      async () => (await w.sendHeartbeat()) && router.faultDrops === answered,
    );
    expect(back()).toHaveLength(1);
    expect(silent()).toHaveLength(1);
  }, 20_000);

  it("a distributor warns once that its coordinator does not answer, and once when it is back", async () => {
    const router = new FaultyRouter();
    const run = Math.random().toString(36).slice(2, 7);
    const redis = {
      url: `memory://orphaned-distributor-${process.pid}-${run}`,
      keyPrefix: uniquePrefix("orphd"),
    };
    const c = new CoordinatorAgent({ agentId: `c-${run}`, redis, a2a: { router }, timing: FAST });
    await c.initialize();
    stops.push(() => c.cleanup());
    const logs: LogEntry[] = [];
    const d = new DistributorAgent({
      agentId: `d-${run}`,
      coordinatorId: c.agentId,
      redis,
      a2a: { router },
      timing: FAST,
      logger: captureLogger(logs),
    });
    await d.initialize();
    stops.push(() => d.cleanup());

    const silent = () =>
      logs.filter((e) => e.level === "warn" && e.msg.startsWith(`coordinator ${c.agentId} does not answer`));
    const back = () => logs.filter((e) => e.msg === `coordinator ${c.agentId} answers again`);
    router.frozen.add(c.agentId);
    await until("the distributor warns of the silence", () => silent().length > 0);
    const dropped = router.faultDrops;
    await until("ten more messages are lost", () => router.faultDrops >= dropped + 10);
    expect(silent()).toHaveLength(1);
    expect(silent()[0]!.fields).toMatchObject({ coordinator: c.agentId });
    expect(back()).toHaveLength(0);

    router.frozen.delete(c.agentId);
    await until("the distributor says its coordinator is back", () => back().length > 0);
    expect(back()[0]!.level).toBe("warn");
    expect(silent()).toHaveLength(1);
  }, 20_000);
});
