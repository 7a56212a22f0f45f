import { describe, expect, it } from "vitest";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import { distributorRegistry } from "../../../src/agents/coordinator/distributor-registry-scripts.js";
import {
  DistributorRoster,
  distributorTypes,
  PRUNE_TYPES_EVERY_TICKS,
  registryKeys,
  stoppedDistributors,
} from "../../../src/agents/coordinator/distributor-roster.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, type OpenLedger } from "../../helpers/ledger-on.js";

/** A test's store and the ledger on it. */
type Opened = Awaited<ReturnType<OpenLedger>>;

/** A roster on a test's store and ledger that forgets a dead distributor at once (deadRetentionMs 0). */
function rosterOn({ store, ledger }: Opened, directory = new DistributorDirectory()): DistributorRoster {
  return new DistributorRoster({ store, ledger, directory, timing: { deadRetentionMs: 0 } });
}

/** Forgets d1 as a coordinator that has known it dead past its retention does: the ids forgotten. */
function forgetDeadD1(opened: Opened): Promise<string[]> {
  const directory = new DistributorDirectory();
  const d1 = directory.upsert("d1", null);
  d1.status = "dead";
  d1.deadSince = performance.now() - 1;
  return rosterOn(opened, directory).forgetLongDead();
}

/**
 * The distributors' registry and their stopped marks change in one step
 * (distributor-registry-3.lua and its embedded twin; on Redis Cluster both keys in one slot):
 * a registration removes the mark, a graceful stop sets it beside the entry, forgetting removes
 * both, and a coordinator that restores the registry lists a marked distributor stopped. The task
 * types each distributor's workers run are kept beside them too (distributor-registry-3.lua),
 * restored for a distributor not heard yet, and forgotten with its entry.
 */
describe.each(testEngines("distributor-registry", { cluster: true }))(
  "the distributors' registry on $name",
  (engine) => {
    const open = ledgerOn(engine);

    it("marks a graceful stop beside the registry entry, for a coordinator that restores it", async () => {
      const opened = await open();
      const { store } = opened;
      const r = rosterOn(opened);
      await r.add("d1", "http://127.0.0.1:7401");
      await r.add("d2", null);
      await r.stopped("d1", "http://127.0.0.1:7401");
      await r.stopped("d3", "http://127.0.0.1:7403"); // never registered: its entry comes with the mark
      expect(await store.get("agents:distributors")).toEqual({
        d1: "http://127.0.0.1:7401",
        d2: null,
        d3: "http://127.0.0.1:7403",
      });
      expect([...(await stoppedDistributors(store))].sort()).toEqual(["d1", "d3"]);
      // A coordinator that starts lists d1 and d3 stopped, d2 not.
      const directory = new DistributorDirectory();
      await rosterOn(opened, directory).restore();
      expect(
        directory
          .all()
          .map((d) => [d.id, d.stopped === true])
          .sort(),
      ).toEqual([
        ["d1", true],
        ["d2", false],
        ["d3", true],
      ]);
      // d3 registers again (restarted): alive, the mark gone. d1 is forgotten: entry and mark gone.
      await r.add("d3", "http://127.0.0.1:7413");
      expect(await forgetDeadD1(opened)).toEqual(["d1"]);
      expect(await store.get("agents:distributors")).toEqual({ d2: null, d3: "http://127.0.0.1:7413" });
      expect([...(await stoppedDistributors(store))]).toEqual([]);
    });

    it("keeps each distributor's task types beside its entry: restored for one not heard yet, forgotten with it", async () => {
      const opened = await open();
      const { store } = opened;
      const r = rosterOn(opened);
      await r.add("d1", null);
      await r.add("d2", null);
      await r.saveTypes("d1", ["a", "b"]);
      await r.saveTypes("d2", ["c"]);
      await r.saveTypes("d2", ["d"]); // changed: replaced
      await r.saveTypes("d3", ["e"]);
      await r.saveTypes("d3", []); // none: removed
      expect([...(await distributorTypes(store))].sort()).toEqual([
        ["d1", ["a", "b"]],
        ["d2", ["d"]],
      ]);
      // A coordinator that starts knows d1 runs a and d2 d (both dead, as far as it knows, once
      // they stay silent: their tasks wait for them), but one heard already keeps what it said.
      const directory = new DistributorDirectory();
      directory.heartbeat("d2", {
        kind: "distributor_status",
        url: null,
        status: "idle",
        load: 0,
        capacity: 1,
        owns_lease: true,
        done: 0,
        workers: [{ id: "w", status: "idle", load: 0, capacity: 1, task_types: ["x"] }],
      } as never);
      await rosterOn(opened, directory).restore();
      for (const id of ["d1", "d2"]) directory.get(id)!.status = "dead";
      expect([directory.awaitsRunner("a"), directory.awaitsRunner("d"), directory.awaitsRunner("x")]).toEqual(
        [true, false, true],
      );
      // Forgotten with its entry.
      expect(await forgetDeadD1(opened)).toEqual(["d1"]);
      expect([...(await distributorTypes(store))]).toEqual([["d2", ["d"]]]);
    });

    it("keeps the types a distributor back without its workers is remembered for, until the retention has passed", async () => {
      const { store, ledger } = await open();
      const directory = new DistributorDirectory();
      let retentionMs = 600_000;
      directory.rememberRunnersMs = () => retentionMs;
      const r = new DistributorRoster({ store, ledger, directory, timing: { deadRetentionMs: retentionMs } });
      const writes: Array<Promise<void>> = [];
      directory.typesChanged = (id, types) => writes.push(r.saveTypes(id, types));
      const stored = async () => {
        await Promise.all(writes.splice(0));
        return (await distributorTypes(store)).get("d1");
      };
      const heartbeatTo = (to: DistributorDirectory, id: string, ...workers: string[][]) =>
        to.heartbeat(id, {
          kind: "distributor_status",
          url: null,
          status: "idle",
          load: 0,
          capacity: workers.length,
          owns_lease: true,
          done: 0,
          workers: workers.map((task_types, i) => ({
            id: `w${i}`,
            status: "idle",
            load: 0,
            capacity: 1,
            task_types,
          })),
        } as never);
      const heartbeat = (...workers: string[][]) => heartbeatTo(directory, "d1", ...workers);
      await r.add("d1", null);
      heartbeat(["a"], ["b"]);
      expect(await stored()).toEqual(["a", "b"]);
      // Restarted, its workers not back yet: its first heartbeat lists none (before: "none" written).
      heartbeat();
      expect(await stored()).toEqual(["a", "b"]);
      // One worker back, running `a`: `b` still remembered.
      heartbeat(["a"]);
      expect(await stored()).toEqual(["a", "b"]);
      await r.tick();
      expect(await stored()).toEqual(["a", "b"]);
      // A coordinator that starts now knows d1 for `b` too.
      const restarted = new DistributorDirectory();
      await new DistributorRoster({
        store,
        ledger,
        directory: restarted,
        timing: { deadRetentionMs: 0 },
      }).restore();
      restarted.get("d1")!.status = "dead";
      expect([restarted.awaitsRunner("a"), restarted.awaitsRunner("b")]).toEqual([true, true]);
      // So does one that hears d1 back without its workers before it reads the store: `b` tasks
      // go there, not to d0, whose worker runs `c` (before: to d0, where they failed as unknown).
      const heardFirst = new DistributorDirectory();
      heartbeatTo(heardFirst, "d0", ["c"]);
      heartbeatTo(heardFirst, "d1");
      await new DistributorRoster({
        store,
        ledger,
        directory: heardFirst,
        timing: { deadRetentionMs: 0 },
      }).restore();
      expect(heardFirst.placeFor("b")).toBe(heardFirst.get("d1"));
      // The retention passes with no worker of `b` back: the next tick writes it away.
      retentionMs = 0;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await r.tick();
      expect(await stored()).toEqual(["a"]);
      await r.tick();
      expect(writes).toEqual([]);
    });

    it("writes again, at the next tick, types whose write failed (a store outage)", async () => {
      const opened = await open();
      const { store } = opened;
      const r = rosterOn(opened);
      const runScript = store.runScript.bind(store);
      store.runScript = async () => {
        throw new Error("the store is down");
      };
      await expect(r.saveTypes("d1", ["a"])).rejects.toThrow("down");
      store.runScript = runScript;
      expect([...(await distributorTypes(store))]).toEqual([]);
      await r.saveUnsaved();
      expect([...(await distributorTypes(store))]).toEqual([["d1", ["a"]]]);
    });

    it("removes, a pruning step after it is seen, the types of a distributor an earlier release forgot (its registry entry gone)", async () => {
      const opened = await open();
      const { store } = opened;
      const r = rosterOn(opened);
      for (const id of ["d1", "d2"]) {
        await r.add(id, null);
        await r.saveTypes(id, [`type-${id}`]);
      }
      // An earlier coordinator forgets d1 (distributor-registry-2.lua): its entry goes, its types stay.
      await store.set("agents:distributors", { d2: null });
      // d3's types are written as its first heartbeat is heard, just before its registration.
      await r.saveTypes("d3", ["type-d3"]);
      const types = async () => [...(await distributorTypes(store)).keys()].sort();
      // Found unregistered, sorted, a step's batch at most (nothing removed with none seen before).
      expect(await store.runScript(distributorRegistry, registryKeys(store), ["prune-types", "1"])).toEqual([
        "d1",
      ]);
      await r.pruneTypes(); // d1 and d3 found unregistered: kept until the next step
      expect(await types()).toEqual(["d1", "d2", "d3"]);
      await r.add("d3", null);
      await r.pruneTypes();
      expect(await types()).toEqual(["d2", "d3"]);
      await r.pruneTypes();
      expect(await types()).toEqual(["d2", "d3"]);
      // Every PRUNE_TYPES_EVERY_TICKS monitor ticks, a step: two to remove one found so.
      await store.set("agents:distributors", { d3: null });
      for (let i = 0; i < 2 * PRUNE_TYPES_EVERY_TICKS - 1; i++) await r.tick();
      expect(await types()).toEqual(["d2", "d3"]);
      await r.tick();
      expect(await types()).toEqual(["d3"]);
    });
  },
);
