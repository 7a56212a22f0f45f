import { describe, expect, it, vi } from "vitest";
import { SOLE } from "../../../src/agents/coordinator/cluster-seam.js";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import { Placement } from "../../../src/agents/coordinator/placement.js";
import { assignUnplaced } from "../../../src/agents/coordinator/unplaced-scripts.js";
import type { LedgerEvent } from "../../../src/agents/ledger/task-ledger.js";
import type { AgentPayload, TaskDict } from "../../../src/agents/protocol.js";
import { DEFAULT_TIMING } from "../../../src/agents/timing.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { workerSummary } from "../../helpers/worker-summary.js";

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

    function beat(directory: DistributorDirectory, id: string, load = 0) {
      directory.heartbeat(id, {
        kind: "distributor_status",
        url: null,
        status: "idle",
        load,
        capacity: 4,
        owns_lease: true,
        done: 0,
        workers: [workerSummary(`${id}-w`, ["echo"])],
      } as never);
    }

    async function setUp() {
      const told: LedgerEvent[] = [];
      const { ledger } = await open({ observer: (e) => told.push(e) });
      const directory = new DistributorDirectory();
      beat(directory, "d1");
      const sent: Array<{ to: string; ids: string[] }> = [];
      const placement = new Placement({
        ledger,
        directory,
        cluster: SOLE,
        timing: { ...DEFAULT_TIMING, batchLingerMs: 0 },
        placementTimeoutMs: 60_000,
        send: async (to: string, payload: AgentPayload) => {
          if (payload.kind === "assign_tasks") sent.push({ to, ids: payload.tasks.map((t) => t.task_id) });
        },
        holdsBack: () => false,
        lone: () => true,
        sent: () => {},
        unsendable: () => {},
      });
      return { ledger, told, placement, sent, directory };
    }

    it("sends the task at once when the retry finds it where its own lost try put it", async () => {
      const { ledger, told, placement, sent } = await setUp();
      try {
        const t = newTask();
        expect(await ledger.submit(t)).toBe(true);
        // The first placement call runs in the store, its answer lost.
        const grouped = ledger.grouped.bind(ledger);
        let lost = 0;
        vi.spyOn(ledger, "grouped").mockImplementation(async (script, ...rest) => {
          const reply = await grouped(script, ...rest);
          if (script === assignUnplaced && lost++ === 0)
            throw new Error("no reply from the store in time (the command may still have run)");
          return reply;
        });
        placement.later({ task_id: t.taskId, task_type: "echo", payload: {} } as TaskDict);
        await vi.waitFor(() => expect(lost).toBe(1), { timeout: 20_000, interval: 10 });
        await vi.waitFor(() => expect(placement.has(t.taskId)).toBe(true), { timeout: 20_000, interval: 10 });
        expect((await ledger.get(t.taskId))?.distributor).toBe("d1"); // it ran
        expect(sent).toEqual([]);
        // The next pass (the monitor's tick schedules one): d1 again, where the task is already.
        placement.schedule();
        await vi.waitFor(() => expect(sent).toEqual([{ to: "d1", ids: [t.taskId] }]), {
          timeout: 20_000,
          interval: 10,
        });
        expect(lost).toBe(2);
        expect(placement.has(t.taskId)).toBe(false);
        // The observer hears of the placement once (the lost answer told it nothing).
        expect(told.filter((e) => e.op === "assigned" && e.task_id === t.taskId)).toEqual([
          { op: "assigned", task_id: t.taskId, distributor: "d1" },
        ]);
      } finally {
        placement.close();
      }
    }, 45_000);

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

    it("sends the task at once to where its own lost try put it when the retry chooses another distributor", async () => {
      const { ledger, told, placement, sent, directory } = await setUp();
      try {
        const t = newTask();
        expect(await ledger.submit(t)).toBe(true);
        const grouped = ledger.grouped.bind(ledger);
        let lost = 0;
        vi.spyOn(ledger, "grouped").mockImplementation(async (script, ...rest) => {
          const reply = await grouped(script, ...rest);
          if (script === assignUnplaced && lost++ === 0)
            throw new Error("no reply from the store in time (the command may still have run)");
          return reply;
        });
        placement.later({ task_id: t.taskId, task_type: "echo", payload: {} } as TaskDict);
        await vi.waitFor(() => expect(lost).toBe(1), { timeout: 20_000, interval: 10 });
        await vi.waitFor(() => expect(placement.has(t.taskId)).toBe(true), { timeout: 20_000, interval: 10 });
        expect((await ledger.get(t.taskId))?.distributor).toBe("d1"); // it ran
        // d1 full now and d2 empty: the retry chooses d2, and finds the task on d1.
        beat(directory, "d1", 4);
        beat(directory, "d2");
        placement.schedule();
        await vi.waitFor(() => expect(sent).toEqual([{ to: "d1", ids: [t.taskId] }]), {
          timeout: 20_000,
          interval: 10,
        });
        expect(lost).toBe(2);
        expect(placement.has(t.taskId)).toBe(false);
        expect((await ledger.get(t.taskId))?.distributor).toBe("d1");
        expect(told.filter((e) => e.op === "assigned" && e.task_id === t.taskId)).toEqual([
          { op: "assigned", task_id: t.taskId, distributor: "d1" },
        ]);
      } finally {
        placement.close();
      }
    }, 45_000);

    it("a dead distributor's task: the retry on another distributor sends it where the lost try moved it", async () => {
      const { ledger, placement, sent, directory } = await setUp();
      try {
        const t = newTask();
        expect(await ledger.submit(t, "d0")).toBe(true); // on d0, dead (never heard here)
        const assignTo = ledger.assignTo.bind(ledger);
        let lost = 0;
        vi.spyOn(ledger, "assignTo").mockImplementation(async (...args) => {
          const verdict = await assignTo(...args);
          if (lost++ === 0)
            throw new Error("no reply from the store in time (the command may still have run)");
          return verdict;
        });
        placement.hold({ task_id: t.taskId, task_type: "echo", payload: {} } as TaskDict, 0, { from: "d0" });
        placement.schedule();
        await vi.waitFor(() => expect(lost).toBe(1), { timeout: 20_000, interval: 10 });
        await vi.waitFor(() => expect(placement.has(t.taskId)).toBe(true), { timeout: 20_000, interval: 10 });
        expect((await ledger.get(t.taskId))?.distributor).toBe("d1"); // it ran
        beat(directory, "d1", 4);
        beat(directory, "d2");
        placement.schedule();
        await vi.waitFor(() => expect(sent).toEqual([{ to: "d1", ids: [t.taskId] }]), {
          timeout: 20_000,
          interval: 10,
        });
        expect(placement.has(t.taskId)).toBe(false);
        expect((await ledger.get(t.taskId))?.distributor).toBe("d1");
      } finally {
        placement.close();
      }
    }, 45_000);
  },
);
