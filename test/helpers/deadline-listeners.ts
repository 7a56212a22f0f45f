import { getEventListeners } from "node:events";
import { expect } from "vitest";

/**
 * Runs `sends` under one deadline (an AbortSignal) and asserts that, once they have ended, none
 * left a listener on it, and that Node warned of none piling up (MaxListenersExceededWarning).
 */
export async function expectNoListenersLeft(sends: (deadline: AbortSignal) => unknown): Promise<void> {
  const deadline = new AbortController();
  const baseline = getEventListeners(deadline.signal, "abort").length;
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on("warning", onWarning);
  try {
    await sends(deadline.signal);
    expect(getEventListeners(deadline.signal, "abort")).toHaveLength(baseline);
  } finally {
    process.off("warning", onWarning);
  }
  expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
}
