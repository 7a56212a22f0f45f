import { afterEach, describe, expect, it, vi } from "vitest";
import { A2ARouter, CoordinatorAgent } from "../../../src/index.js";
import { FAST } from "../../helpers/cluster.js";

/**
 * A coordinator that gains task shards rescans their open tasks (CoordinatorCore.restore). Under
 * a backlog on a busy machine a rescan can take longer than a shard lease lives (600 ms with
 * FAST timing, 2 s by default). The lease round used to await the rescan: no renewal went out
 * meanwhile, the leases lapsed, were taken again and rescanned again, for ever (a lone
 * coordinator with 10,000 tasks open, on a starved machine: its shards' fence counters went up by
 * two a second and the tasks hardly moved). The rescan now runs beside the renewals.
 */

const agents: CoordinatorAgent[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const a of agents.splice(0)) await a.cleanup().catch(() => {});
});

describe("a rescan slower than a shard lease", () => {
  it("keeps the leases it took: shards are rescanned once, not taken again and again", async () => {
    const run = Math.random().toString(36).slice(2, 7);
    const c = new CoordinatorAgent({
      agentId: `slow-rescan-${run}`,
      redis: { url: `memory://slow-rescan-${process.pid}-${run}` },
      a2a: { router: new A2ARouter() },
      timing: FAST,
    });
    agents.push(c);
    const restore = c.core.restore.bind(c.core);
    const rescanned: number[][] = [];
    vi.spyOn(c.core, "restore").mockImplementation(async (shards?: number[]) => {
      if (shards !== undefined) {
        rescanned.push(shards);
        // Three lease lifetimes.
        await new Promise((r) => setTimeout(r, 3 * 600));
      }
      return restore(shards);
    });
    await c.initialize();
    expect(rescanned).toEqual([Array.from({ length: 16 }, (_, i) => i)]);
    // Another five lease lifetimes: still the owner of every shard, none of them rescanned again.
    await new Promise((r) => setTimeout(r, 5 * 600));
    expect(rescanned).toHaveLength(1);
    expect(c.cluster.leases.owned()).toHaveLength(16);
  }, 20_000);
});
