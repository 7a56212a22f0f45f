import { describe, expect, it, vi } from "vitest";
import { SOLE } from "../../../src/agents/coordinator/cluster-seam.js";
import type { CoordinatorStats } from "../../../src/agents/coordinator/coordinator-options.js";
import { DeadDistributors } from "../../../src/agents/coordinator/dead-distributors.js";
import { DEFAULT_TIMING } from "../../../src/agents/timing.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { beat, placementOn } from "../../helpers/placement-on.js";

/**
 * A dead distributor's tasks are taken off it (DeadDistributors) and placed anew while other
 * store calls are on their way. Two interleavings, forced by holding one assignment call:
 * - a second take-off (a late lease renewal) reads the dead distributor's tasks while the first
 *   one's placement of a task is on its way: it holds that task again, and its placement must not
 *   move it off the distributor the first placed it on (assign-tasks-1.lua, given the distributor
 *   it was taken off, leaves a task no longer there): sent to one distributor, not two;
 * - a placement on a distributor declared dead while the call was on its way lands after the
 *   take-off read that distributor's tasks: the coordinator takes it off there itself.
 */
describe.each(testEngines("take-off-placement-race", { cluster: true }))(
  "take-offs and placements in flight on $name",
  (engine) => {
    const open = ledgerOn(engine);
    const newTask = newTasks("take-off-race");

    /** A ledger whose assignments (assign-tasks-1.lua) are held while `hold` says so, each until released. */
    async function setUp(live: string[]) {
      const { ledger } = await open();
      const { placement, directory, sent } = placementOn(ledger, live);
      const dead = new DeadDistributors({
        ledger,
        cluster: SOLE,
        directory,
        placement,
        stats: { reassigned: 0 } as CoordinatorStats,
      });
      const assignTo = ledger.assignTo.bind(ledger);
      const held: Array<{ to: string; go: () => void }> = [];
      let holding = true;
      vi.spyOn(ledger, "assignTo").mockImplementation(async (...args) => {
        if (holding) {
          holding = false;
          await new Promise<void>((go) => held.push({ to: args[1], go }));
        }
        return assignTo(...args);
      });
      return { ledger, directory, placement, dead, sent, held };
    }

    it("a second take-off's placement leaves a task the first one's placement moved", async () => {
      const { ledger, directory, placement, dead, sent, held } = await setUp(["d2", "d3"]);
      try {
        const t = newTask();
        expect(await ledger.submit(t, "d1")).toBe(true); // on d1, which is dead (never heard here)
        await dead.moveOff("d1", true); // held for placement, taken off d1
        placement.schedule();
        await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 20_000, interval: 10 });
        // Meanwhile a late lease renewal takes d1 off again: the task is still on d1 in the store.
        expect(placement.has(t.taskId)).toBe(false);
        await dead.moveOff("d1");
        expect(placement.has(t.taskId)).toBe(true);
        beat(directory, held[0]!.to, 4); // full now: placed on the other one
        placement.schedule();
        await vi.waitFor(() => expect(sent).toHaveLength(1), { timeout: 20_000, interval: 10 });
        const second = sent[0]!.to;
        expect(second).not.toBe(held[0]!.to);
        held[0]!.go(); // the first placement lands now
        await vi.waitFor(() => expect(placement.has(t.taskId)).toBe(false), {
          timeout: 20_000,
          interval: 10,
        });
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(sent).toEqual([{ to: second, id: t.taskId }]);
        expect((await ledger.get(t.taskId))?.distributor).toBe(second);
      } finally {
        for (const h of held) h.go();
        placement.close();
      }
    }, 45_000);

    it("a placement that lands on a distributor declared dead meanwhile is taken off there", async () => {
      const { ledger, directory, placement, dead, sent, held } = await setUp(["d1"]);
      try {
        const t = newTask();
        expect(await ledger.submit(t, "d0")).toBe(true);
        await dead.moveOff("d0", true);
        placement.schedule();
        await vi.waitFor(() => expect(held).toHaveLength(1), { timeout: 20_000, interval: 10 });
        expect(held[0]!.to).toBe("d1");
        // d1 is declared dead and taken off while the call is on its way: the task is not there yet.
        directory.get("d1")!.stopped = true;
        expect(directory.expire(DEFAULT_TIMING.heartbeatTimeoutMs).map((d) => d.id)).toEqual(["d1"]);
        await dead.moveOff("d1", true);
        expect(placement.has(t.taskId)).toBe(false);
        beat(directory, "d2");
        held[0]!.go(); // lands on d1
        await vi.waitFor(
          async () => {
            placement.schedule();
            expect((await ledger.get(t.taskId))?.distributor).toBe("d2");
          },
          { timeout: 20_000, interval: 50 },
        );
        await vi.waitFor(() => expect(sent.at(-1)).toEqual({ to: "d2", id: t.taskId }), {
          timeout: 20_000,
          interval: 10,
        });
      } finally {
        for (const h of held) h.go();
        placement.close();
      }
    }, 45_000);
  },
);
