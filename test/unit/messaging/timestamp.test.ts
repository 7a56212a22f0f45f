import { afterEach, describe, expect, it, vi } from "vitest";
import { formatTimestamp, parseTimestamp, timestampNow } from "../../../src/core/messaging/timestamp.js";

describe("message timestamps", () => {
  const instant = Date.UTC(2025, 10, 28, 12, 34, 56, 789);

  it("writes ISO 8601 UTC with milliseconds and reads it back", () => {
    expect(formatTimestamp(instant)).toBe("2025-11-28T12:34:56.789Z");
    expect(parseTimestamp(formatTimestamp(instant))).toBe(instant);
  });

  it("formats each instant once while it repeats (a burst's tasks share it), any other anew", () => {
    formatTimestamp(1); // whatever an earlier call left kept: not one of the instants below
    const formatted = vi.spyOn(Date.prototype, "toISOString");
    try {
      const cases: Array<[number, string]> = [
        [instant, "2025-11-28T12:34:56.789Z"],
        [instant, "2025-11-28T12:34:56.789Z"],
        [instant + 1, "2025-11-28T12:34:56.790Z"],
        [instant, "2025-11-28T12:34:56.789Z"],
        [0, "1970-01-01T00:00:00.000Z"],
      ];
      for (const [ms, text] of cases) expect(formatTimestamp(ms)).toBe(text);
      expect(formatted).toHaveBeenCalledTimes(4); // the second call was the first's again
      expect(() => formatTimestamp(Number.NaN)).toThrow(RangeError); // not an instant, as before
      expect(() => formatTimestamp(Number.NaN)).toThrow(RangeError);
      expect(formatTimestamp(0)).toBe("1970-01-01T00:00:00.000Z");
    } finally {
      formatted.mockRestore();
    }
  });

  describe("timestampNow", () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it("is now's ISO text, moving with the clock, back or forth", () => {
      vi.useFakeTimers({ now: instant });
      expect(timestampNow()).toBe("2025-11-28T12:34:56.789Z");
      vi.setSystemTime(instant + 1);
      expect(timestampNow()).toBe("2025-11-28T12:34:56.790Z");
      vi.setSystemTime(instant - 60_000);
      expect(timestampNow()).toBe("2025-11-28T12:33:56.789Z");
      expect(timestampNow()).toBe(new Date().toISOString());
    });
  });

  it("reads what a Python peer writes: naive utcnow().isoformat() is UTC, +00:00 and other offsets", () => {
    expect(parseTimestamp("2025-11-28T12:34:56.789123")).toBe(instant);
    expect(parseTimestamp("2025-11-28T12:34:56.789+00:00")).toBe(instant);
    expect(parseTimestamp("2025-11-28T14:34:56.789+02:00")).toBe(instant);
    expect(parseTimestamp("2025-11-28T12:34:56")).toBe(instant - 789);
  });

  it.each([
    "",
    "yesterday",
    "2025-11-28",
    "2025-11-28 12:34:56Z",
    "2025-13-01T00:00:00Z",
    "2025-04-31T00:00:00Z",
    "2025-11-28T24:00:00Z",
    "2025-11-28T12:34:56.Z",
    "2025-11-28T12:34:56+0200",
    " 2025-11-28T12:34:56Z",
  ])("refuses %j", (text) => {
    expect(parseTimestamp(text)).toBeNaN();
  });
});
