import { describe, expect, it } from "vitest";
import { Pacer } from "../../../src/agents/pacer.js";

/** The distributor's paced batch work: at once when idle, once per linger when busy, at once when quiet. */

const tick = () => new Promise((r) => setImmediate(r));

describe("Pacer", () => {
  it("runs at once when it has not run for a linger, then at most once per linger", async () => {
    let runs = 0;
    const pacer = new Pacer(() => runs++, 10_000);
    pacer.schedule();
    pacer.schedule(); // asking again before it runs changes nothing
    await tick();
    expect(runs).toBe(1);
    pacer.schedule();
    await tick();
    await tick();
    expect(runs).toBe(1); // held for the linger
    pacer.cancel(true);
  });

  it("while quiet() says so, runs on the next turn however recently it ran", async () => {
    let runs = 0;
    let quiet = true;
    const pacer = new Pacer(
      () => runs++,
      10_000,
      () => quiet,
    );
    for (let i = 1; i <= 3; i++) {
      pacer.schedule();
      await tick();
      expect(runs).toBe(i);
    }
    quiet = false;
    pacer.schedule();
    await tick();
    await tick();
    expect(runs).toBe(3); // busy again: the linger holds it
    pacer.cancel(true);
  });
});
