import { describe, expect, it } from "vitest";
import { FAST } from "../../helpers/cluster.js";
import { gatedTasksOnD1, recordReassigned, stalledAtDeath } from "../../helpers/dead-distributor.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A stall on a loaded machine: the monitor tick that declares a distributor dead runs before the
 * shard leases are renewed, each past its lease on this process's clock (not yet in the store).
 * The dead distributor's tasks in those shards are not taken off then; once the renewal goes
 * through they must still move, or they stay on it for ever and their waiters time out. A take-off
 * the store fails then is tried again at the next monitor tick.
 */
describe.each(testEngines("lapsed-lease"))("a lease renewed late ($name)", (engine) => {
  const cluster = clusterPerTest(engine);

  it("a distributor declared dead while the leases had lapsed still has its tasks moved", async () => {
    const { c, coordinator, d1, w1, ids, release, held, lapsedAtDeath } = await stalledAtDeath(cluster, {});
    expect(held.size).toBeGreaterThan(0);
    await c.crash(w1);
    await c.crash(d1);
    await until("d1 is declared dead", lapsedAtDeath);
    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    for (const id of ids)
      expect(await coordinator.waitForTask(id, 20_000), id).toMatchObject({ status: "completed" });
    expect(await coordinator.ledger.distributorTaskIds(d1.agentId)).toEqual([]);
  }, 60_000);

  it("a late renewal's take-off that the store fails is tried again at the next tick", async () => {
    const { c, coordinator, d1, w1, ids, release, leases, lapsedAtDeath } = await stalledAtDeath(
      cluster,
      // Leases of 2.9 s: only the stall made below lapses them, so no second late renewal comes
      // to take the tasks off (before, the failed take-off was left to one: they stayed on d1).
      { timing: { ...FAST, heartbeatTimeoutMs: 3000 } },
      30_000,
    );
    try {
      // The late renewal's take-off of d1 finds the store failing: its read of d1's tasks rejects.
      let failNext = false;
      let failed = 0;
      const renewedLate = leases.o.renewedLate;
      leases.o.renewedLate = (shards) => {
        if (lapsedAtDeath() && failed === 0) failNext = true;
        renewedLate(shards);
      };
      const ledger = coordinator.ledger;
      const read = ledger.distributorTaskIds.bind(ledger);
      ledger.distributorTaskIds = (id) => {
        if (id !== d1.agentId || !failNext) return read(id);
        failNext = false;
        failed++;
        return Promise.reject(new Error("no reply from the store in time"));
      };
      await c.crash(w1);
      await c.crash(d1);
      await until("the late renewal's take-off failed", () => failed === 1, 30_000);
      release();
      await c.startDistributor("d2");
      await c.startWorker("w2", "d2");
      for (const id of ids)
        expect(await coordinator.waitForTask(id, 20_000), id).toMatchObject({ status: "completed" });
      expect(failed).toBe(1);
      expect(await ledger.distributorTaskIds(d1.agentId)).toEqual([]);
    } finally {
      release();
    }
  }, 90_000);

  it("a second late renewal does not take the same dead distributor off again", async () => {
    const { c, coordinator, d1, w1, ids, release, leases, held, lapsedAtDeath } = await stalledAtDeath(
      cluster,
      // Leases of 2.9 s: only the stalls made below lapse them, not a slow moment of a loaded machine.
      { timing: { ...FAST, heartbeatTimeoutMs: 3000 } },
      30_000,
    );
    // Counted: the shards renewed late, and the take-offs of d1 other than the one at its death (begun, ended).
    const renewedLateShards = new Set<number>();
    const renewedLate = leases.o.renewedLate;
    let inLateRenewal = false;
    leases.o.renewedLate = (shards) => {
      for (const shard of shards) renewedLateShards.add(shard);
      inLateRenewal = true;
      try {
        renewedLate(shards);
      } finally {
        inLateRenewal = false;
      }
    };
    const core = coordinator.core;
    const moveOff = core.moveOff.bind(core);
    let lateTakeOffs = 0;
    let lateTakeOffsEnded = 0;
    core.moveOff = (id, declared) => {
      if (id !== d1.agentId || !inLateRenewal) return moveOff(id, declared);
      lateTakeOffs++;
      return moveOff(id, declared).finally(() => {
        lateTakeOffsEnded++;
      });
    };
    const reassigned = recordReassigned(coordinator);
    /** Every shard held here renewed late since the last stall, and no take-off of d1 running. */
    const settled = () =>
      [...held.keys()].every((shard) => renewedLateShards.has(shard)) && lateTakeOffsEnded === lateTakeOffs;
    await c.crash(w1);
    await c.crash(d1);
    await until("d1 is declared dead", lapsedAtDeath, 30_000);
    // (A renewal round under way at the stall may bring some shards back a round before the others.)
    await until(
      "the late renewals took d1's tasks off",
      () => settled() && reassigned.length >= ids.length,
      30_000,
    );
    expect(lateTakeOffs).toBeGreaterThan(0);
    expect([...reassigned].sort()).toEqual([...ids].sort());
    const takeOffs = lateTakeOffs;

    // Another stall past the leases: every shard renewed late again, d1's tasks in them taken off
    // already. A placement pass in the stall hands the tasks off (not the owner on this clock):
    // still recorded on d1, they are taken off again once the hand-off is checked, not at the renewal.
    const placement = (core as unknown as { placement: { place(): Promise<void>; has(id: string): boolean } })
      .placement;
    expect(ids.every((id) => placement.has(id))).toBe(true);
    renewedLateShards.clear();
    for (const lease of held.values()) lease.until = 0;
    void placement.place();
    expect(ids.some((id) => placement.has(id))).toBe(false);
    await until("every shard renewed late again", settled, 30_000);
    expect(lateTakeOffs).toBe(takeOffs);
    expect(reassigned).toHaveLength(ids.length);
    await until("the hand-off check holds them again", () => ids.every((id) => placement.has(id)), 30_000);

    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    for (const id of ids)
      expect(await coordinator.waitForTask(id, 20_000), id).toMatchObject({ status: "completed" });
    expect(reassigned).toHaveLength(ids.length);
  }, 120_000);

  it("a task handed off while still on a dead distributor is checked again while its shard is not owned here, and moved once it is", async () => {
    const { c, coordinator, d1, w1, ids, release } = await gatedTasksOnD1(cluster, {});
    const core = coordinator.core;
    const placement = (core as unknown as { placement: { place(): Promise<void>; has(id: string): boolean } })
      .placement;
    const watched = (coordinator.cluster as unknown as { handedOff: Map<string, number> }).handedOff;
    await c.crash(w1);
    await c.crash(d1);
    await until("d1's tasks are taken off it, held for placement", () =>
      ids.every((id) => placement.has(id)),
    );
    // A stall on a loaded machine: the shards are not owned here on this process's clock, from a
    // placement pass (which hands the tasks off, still recorded on d1) until their hand-off has
    // been checked once. Before, that check forgot them (on a distributor, not unplaced): nothing
    // moved them again, they stayed on d1 for ever and their waiters timed out.
    const cluster_ = coordinator.cluster;
    const ownerValue = cluster_.ownerValue.bind(cluster_);
    let lapsed = true;
    cluster_.ownerValue = (id) => (lapsed ? null : ownerValue(id));
    try {
      await placement.place();
      expect(ids.some((id) => placement.has(id))).toBe(false);
      const handedOffAt = new Map(ids.map((id) => [id, watched.get(id)]));
      expect([...handedOffAt.values()].every((at) => at !== undefined)).toBe(true);
      await until(
        "their hand-off was checked while the shards are not owned here",
        () => ids.every((id) => watched.get(id) !== handedOffAt.get(id)),
        30_000,
      );
    } finally {
      lapsed = false;
    }
    release();
    await c.startDistributor("d2");
    await c.startWorker("w2", "d2");
    for (const id of ids)
      expect(await coordinator.waitForTask(id, 30_000), id).toMatchObject({ status: "completed" });
    expect(await coordinator.ledger.distributorTaskIds(d1.agentId)).toEqual([]);
  }, 90_000);
});
