import { describe, expect, it } from "vitest";
import { eventLoopUtilization } from "../../../src/agents/event-loop-load.js";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
