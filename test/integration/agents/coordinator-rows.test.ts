import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { CoordinatorAgent } from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { testEngines } from "../../helpers/engines.js";
import { twoCoordinators } from "../../helpers/two-coordinators.js";
import { until } from "../../helpers/wait.js";

/**
 * Several coordinators (SPEC "Several coordinators"): GET /agents lists every coordinator, and
 * each coordinator's row is the same whichever coordinator is asked (its own row, and the row
 * the others make from its view) — apart from what moves with time (last_heartbeat, load, done).
 */

/** The rows of the coordinators `c` lists, by id, without what moves with time (shards: see shards()). */
function rows(c: CoordinatorAgent): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const a of agentList(c)) {
    if (a.tier !== "coordinator") continue;
    const { last_heartbeat: _t, load: _l, queued: _q, done: _d, shards: _s, ...steady } = a;
    out[String(a.id)] = steady;
  }
  return out;
}

/** The shards of each coordinator `c` lists, by id. */
function shards(c: CoordinatorAgent): string {
  const out: Record<string, unknown> = {};
  for (const a of agentList(c)) if (a.tier === "coordinator") out[String(a.id)] = a.shards;
  return JSON.stringify(out, Object.keys(out).sort());
}

describe.each(testEngines("coordinator-rows"))("coordinator rows ($name)", (engine) => {
  const stops: Array<() => Promise<unknown>> = [];
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  });
  afterAll(() => engine.teardown());

  it("every coordinator lists each coordinator with the same row", async () => {
    const { c1, c2 } = await twoCoordinators(engine.config(), stops);
    expect(Object.keys(rows(c1)).sort()).toEqual([c1.agentId, c2.agentId].sort());
    expect(rows(c1)).toEqual(rows(c2));
    // The shards each owns reach the other's view a tick later: they agree once the leases settle.
    await until("c1 and c2 list the same shards for each", () => shards(c1) === shards(c2), 30_000);
  }, 120_000);
});
