import { describe, expect, it } from "vitest";
import { compactTime, parseRecord } from "../../../src/agents/ledger/task-record.js";

/** created_at as a record keeps it: epoch ms when that reads back as the very same text. */

describe("compactTime", () => {
  it("keeps a canonical ISO time as epoch milliseconds, anything else as its text, call after call", () => {
    const iso = "2026-12-04T15:00:00.123Z";
    const ms = String(Date.parse(iso));
    const cases: Array<[string, string]> = [
      [iso, ms],
      [iso, ms], // the same text again (tasks submitted together)
      ["2026-12-04T15:00:00Z", "2026-12-04T15:00:00Z"], // no milliseconds: not what toISOString writes
      ["2026-12-04T16:00:00.123+01:00", "2026-12-04T16:00:00.123+01:00"],
      ["not a time", "not a time"],
      [iso, ms],
      ["1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"], // before the epoch: a negative number
    ];
    for (const [given, kept] of cases) expect(compactTime(given)).toBe(kept);
  });

  it("reads back as the ISO text it was given", () => {
    for (const iso of ["2026-12-04T15:00:00.123Z", "2026-12-04T15:00:00Z"]) {
      const record = parseRecord("t", [
        "task_type",
        "echo",
        "payload",
        "{}",
        "status",
        "pending",
        "created_at",
        compactTime(iso),
      ]);
      expect(record?.task.created_at).toBe(iso);
    }
  });
});
