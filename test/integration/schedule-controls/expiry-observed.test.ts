import { describe, expect, it } from "vitest";
import { InputKeeper } from "../../../src/agents/input/input-keeper.js";
import { ScheduleControls } from "../../../src/agents/schedule-controls/schedule-controls.js";
import type { LedgerEvent } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { ledgerOn, newTasks } from "../../helpers/ledger-on.js";
import { until } from "../../helpers/wait.js";

/**
 * A task the due sweep ends "expired", or whose wait for input runs out, is ended by a script of
 * its own room, not by a ledger call: the ledger's observer (what `--history` records, the
 * chaos checker's view) is told of it as of any abandon. Before, the history had no end for it, and the checker called a task expired
 * on a distributor killed -9 "never moved or finished after it was declared dead".
 */

const task = newTasks("xo");

describe.each(testEngines("expiry-observed"))("an expiry in the history on $name", (engine) => {
  const open = ledgerOn(engine);

  it("tells the observer of each task the sweep expired, once, and of none that started", async () => {
    const events: LedgerEvent[] = [];
    const { store, ledger } = await open({ retentionSeconds: 60, observer: (e) => events.push(e) });
    // `started` is dispatched before its expires_at (a dispatch after it ends it expired): far
    // enough ahead for a loaded machine.
    const expiresAt = new Date(Date.now() + 1500).toISOString();
    const idle = task({ schedule: { expires_at: expiresAt } });
    const started = task({ schedule: { expires_at: expiresAt } });
    for (const t of [idle, started]) expect(await ledger.submit(t, "d1")).toBe(true);
    expect(typeof (await ledger.dispatch(started.taskId, "d1", "w1"))).toBe("number");
    const told: string[] = [];
    const controls = new ScheduleControls({
      store,
      ledger,
      place: () => {},
      expired: (t) => told.push(t.task_id),
    });
    controls.start();
    try {
      await until("the sweep has expired the idle task", () => told.length > 0, 10_000);
    } finally {
      controls.stop();
    }
    expect(told).toEqual([idle.taskId]);
    expect((await ledger.get(idle.taskId))!.task).toMatchObject({ status: "abandoned", error: "expired" });
    expect(events.filter((e) => e.op === "abandoned")).toEqual([
      { op: "abandoned", task_id: idle.taskId, reason: "expired" },
    ]);
  });

  it("tells the observer of each task whose wait for input ran out, with its error", async () => {
    const events: LedgerEvent[] = [];
    const { store, ledger } = await open({ retentionSeconds: 60, observer: (e) => events.push(e) });
    const asked = task({ inputTimeoutMs: 1 });
    expect(await ledger.submit(asked, "d1")).toBe(true);
    const fence = (await ledger.dispatch(asked.taskId, "d1", "w1")) as number;
    expect(
      await ledger.commit({ taskId: asked.taskId, fence, status: "input_required", inputRequest: { q: 1 } }),
    ).toBe("input_required");
    const told: string[] = [];
    const keeper = new InputKeeper({ store, ledger, place: () => {}, ended: (t) => told.push(t.task_id) });
    await until("the wait has run out", async () => (await keeper.tick()) > 0 || told.length > 0, 10_000);
    const error = (await ledger.get(asked.taskId))!.task.error;
    expect(error).toMatch(/input_timeout_ms/);
    expect(events.filter((e) => e.op === "abandoned")).toEqual([
      { op: "abandoned", task_id: asked.taskId, reason: error },
    ]);
  });
});
