import { describe, expect, it } from "vitest";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/** The coordinator's shard leases as held in memory (ShardLeases.held), for the stall below. */
type Held = Map<number, { value: string; until: number }>;

/**
 * A stall on a loaded machine: the monitor tick that declares a distributor dead runs before the
 * shard leases are renewed, each past its lease on this process's clock (not yet in the store).
 * The dead distributor's tasks in those shards are not taken off then; once the renewal goes
 * through they must still move, or they stay on it for ever and their waiters time out.
 */
describe.each(testEngines("lapsed-lease"))("a lease renewed late ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("a distributor declared dead while the leases had lapsed still has its tasks moved", async () => {
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const c = cluster({
      handlers: {
        gated: async () => {
          await gate;
          return { ok: true };
        },
      },
    });
    const coordinator = await c.startCoordinator();
    const d1 = await c.startDistributor("d1");
    const w1 = await c.startWorker("w1", "d1");
    await c.ready();
    const ids = ["a", "b", "c"].map((n) => c.id(n));
    for (const id of ids) await coordinator.submitTask({ task_id: id, task_type: "gated", payload: {} });
    await until("d1 holds the tasks", () => d1.core.heartbeat(null).load === ids.length);

    const held = (coordinator.core as unknown as { cluster: { leases: { held: Held } } }).cluster.leases.held;
    expect(held.size).toBeGreaterThan(0);
    const directory = coordinator.core.directory;
    const expire = directory.expire.bind(directory);
    let lapsedAtDeath = false;
    directory.expire = (timeoutMs) => {
      const dead = expire(timeoutMs);
      if (dead.some((d) => d.id === d1.agentId)) {
        for (const lease of held.values()) lease.until = 0; // the stall outlasted every lease here
        lapsedAtDeath = true;
      }
      return dead;
    };
    await c.crash(w1);
    await c.crash(d1);
    await until("d1 is declared dead", () => lapsedAtDeath);
    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    for (const id of ids)
      expect(await coordinator.waitForTask(id, 20_000), id).toMatchObject({ status: "completed" });
    expect(await coordinator.ledger.distributorTaskIds(d1.agentId)).toEqual([]);
  }, 60_000);
});
