import { describe, expect, it } from "vitest";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import {
  DistributorRoster,
  stoppedDistributors,
} from "../../../src/agents/coordinator/distributor-roster.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn } from "../../helpers/ledger-on.js";

/**
 * The distributors' registry and their stopped marks change in one step
 * (distributor-registry-2.lua and its embedded twin; on Redis Cluster both keys in one slot):
 * a registration removes the mark, a graceful stop sets it beside the entry, forgetting removes
 * both, and a coordinator that restores the registry lists a marked distributor stopped.
 */
describe.each(testEngines("distributor-registry", { cluster: true }))(
  "the distributors' registry on $name",
  (engine) => {
    const open = ledgerOn(engine);

    it("marks a graceful stop beside the registry entry, for a coordinator that restores it", async () => {
      const { store, ledger } = await open();
      const roster = () =>
        new DistributorRoster({
          store,
          ledger,
          directory: new DistributorDirectory(),
          timing: { deadRetentionMs: 0 },
        });
      const r = roster();
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
      await new DistributorRoster({
        store,
        ledger,
        directory,
        timing: { deadRetentionMs: 0 },
      }).restore();
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
      const forgetting = new DistributorDirectory();
      const forget = new DistributorRoster({
        store,
        ledger,
        directory: forgetting,
        timing: { deadRetentionMs: 0 },
      });
      const d1 = forgetting.upsert("d1", null);
      d1.status = "dead";
      d1.deadSince = performance.now() - 1;
      expect(await forget.forgetLongDead()).toEqual(["d1"]);
      expect(await store.get("agents:distributors")).toEqual({ d2: null, d3: "http://127.0.0.1:7413" });
      expect([...(await stoppedDistributors(store))]).toEqual([]);
    });
  },
);
