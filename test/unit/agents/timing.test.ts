import { describe, expect, it } from "vitest";
import { DEFAULT_TIMING, resolveTiming } from "../../../src/agents/timing.js";

describe("resolveTiming: deadRetentionMs", () => {
  it("lists a dead agent for ten minutes by default, and takes 0 (forgotten as soon as it may be)", () => {
    expect(DEFAULT_TIMING.deadRetentionMs).toBe(600_000);
    expect(resolveTiming({}).deadRetentionMs).toBe(600_000);
    expect(resolveTiming({ deadRetentionMs: 0 }).deadRetentionMs).toBe(0);
  });

  it("refuses a negative or non-finite retention, naming it, with a code", () => {
    for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => resolveTiming({ deadRetentionMs: bad })).toThrow(
        expect.objectContaining({
          code: "ERR_INVALID_CONFIG",
          message: expect.stringContaining("timing.deadRetentionMs must be a non-negative number"),
        }),
      );
    }
  });
});

describe("resolveTiming: keys", () => {
  it("refuses an unknown key as unknown, naming it (and the timing it is probably a misspelling of)", () => {
    expect(() => resolveTiming({ heartbeatIntervalMS: 500 } as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringContaining(
          "unknown option timing.heartbeatIntervalMS (did you mean timing.heartbeatIntervalMs?)",
        ),
      }),
    );
    expect(() => resolveTiming({ heartbeatMs: 500 } as never)).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_CONFIG",
        message: expect.stringMatching(/^timing: unknown option timing\.heartbeatMs; the known ones are /),
      }),
    );
  });
});

describe("resolveTiming: heartbeat interval and timeout", () => {
  it("refuses a timeout not longer than the interval, naming both values (an agent would die between heartbeats)", () => {
    for (const [interval, timeout] of [
      [3000, 3000],
      [5000, 4000],
    ] as const) {
      expect(() => resolveTiming({ heartbeatIntervalMs: interval, heartbeatTimeoutMs: timeout })).toThrow(
        expect.objectContaining({
          code: "ERR_INVALID_CONFIG",
          message: expect.stringContaining(
            `timing.heartbeatTimeoutMs (${timeout} ms) must be longer than timing.heartbeatIntervalMs (${interval} ms)`,
          ),
        }),
      );
    }
    // Only the interval given: the default timeout is the one named.
    expect(() => resolveTiming({ heartbeatIntervalMs: 5000 })).toThrow(
      /heartbeatTimeoutMs \(3000 ms\).*\(5000 ms\)/,
    );
    expect(resolveTiming({ heartbeatIntervalMs: 2999 }).heartbeatTimeoutMs).toBe(3000);
  });
});
