import { describe, expect, it, vi } from "vitest";
import { assignUnplaced } from "../../../src/agents/coordinator/unplaced-scripts.js";
import type { LedgerEvent } from "../../../src/agents/ledger/task-ledger.js";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { beat, placementOn } from "../../helpers/placement-on.js";

/**
 * A task seen on no distributor is placed only if it still is (assign-unplaced-1.lua). When that
 * call runs in the store but its answer is lost, the task is held and placed again: the retry
 * finds it on the very distributor its own lost try put it on, takes that placement as its own
 * and sends the assignment at once (that distributor would otherwise only find the task at its
 * next reconcile, seconds later). Found on that distributor by a path that did not lose its
 * answer, it is left there and not sent twice.
 */
describe.each(testEngines("placement-lost-answer", { cluster: true }))(
  "a conditional placement retried after a lost answer on $name",
  (engine) => {
    const open = ledgerOn(engine);
    const newTask = newTasks("lost-answer");

    async function setUp() {
      const told: LedgerEvent[] = [];
      const { ledger } = await open({ observer: (e) => told.push(e) });
      return { ledger, told, ...placementOn(ledger, ["d1"]) };
    }

    /**
     * A placement whose first try runs in the store but loses its answer. The task is unplaced
     * (assign-unplaced-1.lua, through `grouped`) or on d0, dead and never heard here (assignTo,
     * from d0); the retry chooses d1 again, or, with `elsewhere`, d2 (d1 full by then).
     */
    const lostTries: Array<{ name: string; from?: string; elsewhere: boolean }> = [
      {
        name: "sends the task at once when the retry finds it where its own lost try put it",
        elsewhere: false,
      },
      {
        name: "sends the task at once to where its own lost try put it when the retry chooses another distributor",
        elsewhere: true,
      },
      {
        name: "a dead distributor's task: the retry on another distributor sends it where the lost try moved it",
        from: "d0",
        elsewhere: true,
      },
    ];

    for (const { name, from, elsewhere } of lostTries) {
      it(name, async () => {
        const { ledger, told, placement, sent, directory } = await setUp();
        try {
          const t = newTask();
          expect(await ledger.submit(t, from)).toBe(true);
          // The first placement call runs in the store, its answer lost.
          let lost = 0;
          const loseFirst = async <T>(reply: Promise<T>): Promise<T> => {
            const answer = await reply;
            if (lost++ === 0)
              throw new Error("no reply from the store in time (the command may still have run)");
            return answer;
          };
          const task = { task_id: t.taskId, task_type: "echo", payload: {} } as TaskDict;
          const unplaced = from === undefined;
          if (unplaced) {
            const grouped = ledger.grouped.bind(ledger);
            vi.spyOn(ledger, "grouped").mockImplementation(async (script, ...rest) =>
              script === assignUnplaced ? loseFirst(grouped(script, ...rest)) : grouped(script, ...rest),
            );
            placement.later(task);
          } else {
            const assignTo = ledger.assignTo.bind(ledger);
            vi.spyOn(ledger, "assignTo").mockImplementation(async (...args) => loseFirst(assignTo(...args)));
            placement.hold(task, 0, { from });
            placement.schedule();
          }
          await vi.waitFor(() => expect(lost).toBe(1), { timeout: 20_000, interval: 10 });
          await vi.waitFor(() => expect(placement.has(t.taskId)).toBe(true), {
            timeout: 20_000,
            interval: 10,
          });
          expect((await ledger.get(t.taskId))?.distributor).toBe("d1"); // it ran
          if (elsewhere) {
            // d1 full now and d2 empty: the retry chooses d2, and finds the task on d1.
            beat(directory, "d1", 4);
            beat(directory, "d2");
          } else {
            expect(sent).toEqual([]);
          }
          // The next pass (the monitor's tick schedules one).
          placement.schedule();
          await vi.waitFor(() => expect(sent).toEqual([{ to: "d1", id: t.taskId }]), {
            timeout: 20_000,
            interval: 10,
          });
          if (unplaced) expect(lost).toBe(2);
          expect(placement.has(t.taskId)).toBe(false);
          if (elsewhere) expect((await ledger.get(t.taskId))?.distributor).toBe("d1");
          if (unplaced) {
            // The observer hears of the placement once (the lost answer told it nothing).
            expect(told.filter((e) => e.op === "assigned" && e.task_id === t.taskId)).toEqual([
              { op: "assigned", task_id: t.taskId, distributor: "d1" },
            ]);
          }
        } finally {
          placement.close();
        }
      }, 45_000);
    }

    it("leaves a task another path placed on the same distributor (not sent twice)", async () => {
      const { ledger, placement, sent } = await setUp();
      try {
        const t = newTask();
        expect(await ledger.submit(t, "d1")).toBe(true); // placed (and sent) by another path
        const grouped = ledger.grouped.bind(ledger);
        const answers: unknown[] = [];
        vi.spyOn(ledger, "grouped").mockImplementation(async (script, ...rest) => {
          const reply = await grouped(script, ...rest);
          if (script === assignUnplaced) answers.push(...reply);
          return reply;
        });
        placement.later({ task_id: t.taskId, task_type: "echo", payload: {} } as TaskDict);
        await vi.waitFor(() => expect(answers).toEqual([3]), { timeout: 20_000, interval: 10 });
        // Anything sent would go on the next turns (no linger): give them time to show.
        for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
        expect(placement.has(t.taskId)).toBe(false);
        expect(sent).toEqual([]);
      } finally {
        placement.close();
      }
    }, 45_000);
  },
);
