import { describe, expect, it } from "vitest";
import { eventLoopUtilization, quietOr } from "../../../src/agents/event-loop-load.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// First: the window test below leaves a reading dated a second ahead.
describe("quietOr", () => {
  it("is quiet for an agent with one task in hand however busy the loop; with more, as quiet() says", async () => {
    await sleep(60);
    eventLoopUtilization(); // a reading to measure from
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // at work: quiet() says no
    }
    await sleep(0);
    let inHand = 1;
    const quiet = quietOr(() => inHand <= 1);
    expect(quiet()).toBe(true); // lone: nothing to batch it with
    inHand = 5;
    expect(quiet()).toBe(false); // busy, and tasks to batch: lingers apply
    await sleep(200);
    expect(quiet()).toBe(true); // the loop waited: quiet again
  });
});

describe("eventLoopUtilization", () => {
  it("reads near 1 after the loop was kept at work, near 0 after it waited", async () => {
    await sleep(60);
    eventLoopUtilization(); // a reading to measure from
    const until = performance.now() + 120;
    while (performance.now() < until) {
      // at work: the loop cannot wait for anything
    }
    await sleep(0);
    expect(eventLoopUtilization()).toBeGreaterThan(0.6);
    await sleep(200);
    expect(eventLoopUtilization()).toBeLessThan(0.4);
  });

  it("reuses one reading within its 50 ms window", () => {
    const at = performance.now() + 1000; // a fresh reading, then asked again 10 ms later
    const first = eventLoopUtilization(at);
    expect(eventLoopUtilization(at + 10)).toBe(first);
  });
});
