import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { coordinatorCounts } from "../../../src/agents/coordinator/coordinator-counts-scripts.js";
import { CoordinatorAgent, RedisClient } from "../../../src/index.js";
import { FAST, FaultyRouter } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * The cluster's task counts (GET /agents' cluster_tasks, `triad status`, the dashboard) on a
 * store written by an earlier release: one whose coordinators counted submits, ends and
 * reassignments in their coordinator-counts fields, and whose open tasks were recorded before the
 * store counted anything (no end-counts). The counts go on from what that release counted
 * instead of restarting at 0, and submitted is never less than the ends.
 */

const ENDS = ["completed", "failed", "abandoned"] as const;

describe.each(testEngines("upgraded-store-counts"))("counts on an upgraded store ($name)", (engine) => {
  const stops: Array<() => Promise<unknown>> = [];
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  });
  afterAll(() => engine.teardown());

  it("go on from an earlier release's counts, and count a task recorded before the counters as submitted when it ends", async () => {
    const config = engine.config();
    const store = new RedisClient(config);
    expect(await store.connect()).toBe(true);
    stops.push(() => store.disconnect());
    // What a coordinator of an earlier release left: its field, with every count its own.
    const legacy = { submitted: 7, completed: 4, failed: 1, abandoned: 1, reassigned: 2, retried: 3 };
    await store.runScript(
      coordinatorCounts,
      ["coordinator-counts"],
      ["write", JSON.stringify(["old", "2026-01-01T00:00:00.000Z", 0]), JSON.stringify(legacy), "1"],
    );
    const c = new CoordinatorAgent({
      agentId: `c-${Math.random().toString(36).slice(2, 7)}`,
      redis: config,
      a2a: { router: new FaultyRouter() },
      timing: FAST,
    });
    await c.initialize();
    stops.push(() => c.cleanup());
    const totals = () => c.cluster.counts.totals();
    await until("c has read the old field", () => totals().retried === legacy.retried, 30_000);
    await until("c has read the store's counts", () => totals().reassigned !== undefined, 30_000);
    expect(totals()).toMatchObject(legacy);

    // Open tasks recorded as by an earlier release: their shards have no end-counts.
    const ids = ["u1", "u2", "u3", "u4"].map((id) => `${id}-${c.agentId}`);
    for (const id of ids)
      expect(await c.submitTask({ task_id: id, task_type: "echo", payload: {} })).toBe(true);
    for (let shard = 0; shard < c.ledger.shards; shard++) await store.delete(`{t${shard}}:end-counts`);
    for (const id of ids) expect(await c.cancelTask(id)).toBe(true);
    await until("c counts the cancels", () => totals().abandoned === legacy.abandoned + ids.length, 30_000);
    const t = totals();
    const ended = ENDS.reduce((sum, k) => sum + (t[k] ?? 0), 0);
    expect(ended).toBe(ENDS.reduce((sum, k) => sum + legacy[k], 0) + ids.length);
    expect(t.submitted).toBeGreaterThanOrEqual(ended);
    expect(t.reassigned).toBe(legacy.reassigned);
  }, 120_000);
});
