import { describe, expect, it } from "vitest";
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
    );
    passes.want();
    await tick();
    await tick();
    passes.want();
    await tick();
    await tick();
    expect(runs).toBe(2);
  });
});
