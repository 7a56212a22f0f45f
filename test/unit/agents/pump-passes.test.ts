import { afterEach, describe, expect, it, vi } from "vitest";
import { PumpPasses } from "../../../src/agents/distributor/pump-passes.js";

/** The distributor pump's passes: never two at once; asked for while one runs, one more after it. */

const tick = () => new Promise((r) => setImmediate(r));

describe("PumpPasses", () => {
  it("runs one pass at a time, and one more after it however often it was asked for meanwhile", async () => {
    const ends: Array<() => void> = [];
    let running = 0;
    let most = 0;
    let turns = 0;
    const passes: PumpPasses = new PumpPasses(
      () => {
        running++;
        most = Math.max(most, running);
        return new Promise<void>((end) =>
          ends.push(() => {
            running--;
            end();
          }),
        );
      },
      () => {
        turns++;
        setImmediate(() => passes.run()); // the next turn (the Pacer's)
      },
      60_000,
    );
    passes.want();
    await tick();
    expect(ends.length).toBe(1);
    for (let i = 0; i < 3; i++) passes.want(); // a heartbeat, a result, a timer: while it runs
    await tick();
    expect(ends.length).toBe(1); // not a second one beside it
    ends[0]!();
    await tick();
    await tick();
    expect(ends.length).toBe(2); // one after it, for the three asks
    ends[1]!();
    await tick();
    await tick();
    expect(ends.length).toBe(2);
    expect(most).toBe(1);
    expect(turns).toBe(5); // four asks, and the turn after the first pass
  });

  it("goes on after a pass that failed", async () => {
    let runs = 0;
    const passes: PumpPasses = new PumpPasses(
      () => {
        runs++;
        return Promise.reject(new Error("store unreachable"));
      },
      () => setImmediate(() => passes.run()),
      60_000,
    );
    passes.want();
    await tick();
    await tick();
    passes.want();
    await tick();
    await tick();
    expect(runs).toBe(2);
  });

  describe("bounded", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("runs the next pass once one has run past its bound, and not again for the late one's end", async () => {
      vi.useFakeTimers();
      const ends: Array<() => void> = [];
      let overdue = 0;
      const passes: PumpPasses = new PumpPasses(
        () => new Promise<void>((end) => ends.push(end)), // a store call that does not answer
        () => queueMicrotask(() => passes.run()),
        1000,
        { overdue: () => overdue++ },
      );
      passes.want();
      await Promise.resolve();
      expect(ends.length).toBe(1);
      passes.want();
      await Promise.resolve();
      await vi.advanceTimersByTimeAsync(999);
      expect(ends.length).toBe(1); // within its bound, the first holds up the next
      await vi.advanceTimersByTimeAsync(1);
      expect(overdue).toBe(1);
      expect(ends.length).toBe(2); // past it, the next runs
      passes.want(); // asked for while the second runs
      await vi.advanceTimersByTimeAsync(0);
      ends[0]!(); // the late one ends: the second still holds up the next
      await vi.advanceTimersByTimeAsync(0);
      expect(ends.length).toBe(2);
      ends[1]!();
      await vi.advanceTimersByTimeAsync(0);
      expect(ends.length).toBe(3);
      ends[2]!();
      await vi.advanceTimersByTimeAsync(5000);
      expect(overdue).toBe(1);
    });
  });

  it("refuses a dispatch alone that waits for its turn, or asks for one, once stopped", async () => {
    const passes = new PumpPasses(
      () => Promise.resolve(),
      () => {}, // stopped: its turn never comes
      60_000,
    );
    const waiting = passes.alone(async () => true);
    passes.stop();
    await expect(waiting).rejects.toMatchObject({ code: "ERR_SHUTTING_DOWN" });
    await expect(passes.alone(async () => true)).rejects.toMatchObject({ code: "ERR_SHUTTING_DOWN" });
  });
});
