import { describe, expect, it } from "vitest";
import { CascadeLedger } from "../../../src/agents/workflow/cascade-ledger.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";

/**
 * The cancel cascade's scripts on each engine (Lua and its memory twin alike): a task is marked
 * once (so a walk visits it once), the mark keeps the reason on the record and puts the id on
 * its shard's frontier, "done" takes it off, "again" puts back only a marked task, and the
 * frontier is read across shards.
 */

const task = newTasks("cl");

describe.each(testEngines("cascade-ledger", { cluster: true }))(
  "cancel cascade scripts on $name",
  (engine) => {
    const open = ledgerOn(engine);

    it("marks once, keeps the reason, and moves ids on and off the frontier", async () => {
      const { store, ledger } = await open();
      const cascade = new CascadeLedger(store, ledger);
      const tasks = Array.from({ length: 6 }, task);
      for (const t of tasks) expect(await ledger.submit(t)).toBe(true);
      const [a, b, ...rest] = tasks.map((t) => t.taskId);

      // Batched in one tick, over several shards.
      expect(
        await Promise.all([cascade.mark(a!, "canceled by client"), cascade.mark(b!, "parent x canceled")]),
      ).toEqual([true, true]);
      expect(await cascade.mark(a!, "another reason")).toBe(false); // once
      expect(await cascade.mark(`ghost-${a}`, "r")).toBe(false); // no record, no mark
      expect((await ledger.get(a!))?.canceled).toBe("canceled by client");
      expect((await ledger.get(b!))?.canceled).toBe("parent x canceled");
      expect((await ledger.get(rest[0]!))?.canceled).toBeUndefined();
      expect((await cascade.frontier(100)).sort()).toEqual([a, b].sort());

      expect(await cascade.done(a!)).toBe(true);
      expect(await cascade.done(a!)).toBe(false);
      expect(await cascade.frontier(100)).toEqual([b]);
      // "again": back on the frontier only if marked.
      expect(await Promise.all([cascade.again(a!), cascade.again(rest[0]!)])).toEqual([true, false]);
      expect((await cascade.frontier(100)).sort()).toEqual([a, b].sort());
      // The frontier is read in batches per shard.
      for (const id of rest) await cascade.mark(id, "r");
      expect((await cascade.frontier(100)).length).toBe(6);
      expect((await cascade.frontier(1)).length).toBeLessThanOrEqual(ledger.shards);
      for (const id of tasks.map((t) => t.taskId)) await cascade.done(id);
      expect(await cascade.frontier(100)).toEqual([]);
    });
  },
);
