import { describe, expect, it } from "vitest";
import { formatTimestamp, parseTimestamp } from "../../../src/core/messaging/timestamp.js";

describe("message timestamps", () => {
  const instant = Date.UTC(2025, 10, 28, 12, 34, 56, 789);

  it("writes ISO 8601 UTC with milliseconds and reads it back", () => {
    expect(formatTimestamp(instant)).toBe("2025-11-28T12:34:56.789Z");
    expect(parseTimestamp(formatTimestamp(instant))).toBe(instant);
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
