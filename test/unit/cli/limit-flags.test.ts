import { describe, expect, it } from "vitest";
import { parseLimitFlag } from "../../../src/agents/limits/limit-spec.js";
import { limitsFrom } from "../../../src/cli/limit-flags.js";
import { UsageError } from "../../../src/cli/options.js";

describe("--limit TYPE=concurrency:N,rate:R", () => {
  it("takes either part or both, and repeats (space-joined, as repeatable flags are)", () => {
    expect(parseLimitFlag("llm=concurrency:20,rate:50")).toEqual({
      taskType: "llm",
      limit: { concurrency: 20, rate_per_s: 50 },
    });
    expect(parseLimitFlag("a=b=rate:0.5").taskType).toBe("a=b");
    expect(limitsFrom({ limit: "llm=concurrency:3 search=rate:2.5" })).toEqual({
      llm: { concurrency: 3 },
      search: { rate_per_s: 2.5 },
    });
    expect(limitsFrom({})).toBeUndefined();
  });

  it("refuses 0, a negative, a fraction of a slot, an unknown key or no value, naming the flag and field", () => {
    const bad: Array<[string, RegExp]> = [
      ["llm=concurrency:0", /--limit llm=concurrency:0: concurrency: must be an integer >= 1/],
      ["llm=concurrency:-2", /concurrency/],
      ["llm=concurrency:1.5", /concurrency/],
      ["llm=rate:0", /rate_per_s: must be a number > 0/],
      ["llm=rate:-1", /rate_per_s/],
      ["llm=burst:3", /"burst:3" is not concurrency:N or rate:R/],
      ["llm=concurrency:", /is not concurrency:N/],
      // Decimal digits only, as every number flag (Number() took hex, binary, exponents, spaces).
      [
        "llm=concurrency:0x10",
        /"concurrency:0x10" is not concurrency:N or rate:R \(numbers in decimal digits\)/,
      ],
      ["llm=rate:1e3", /"rate:1e3" is not concurrency:N or rate:R/],
      ["llm=rate: 5", /"rate: 5" is not concurrency:N or rate:R/],
      ["llm=concurrency:0b11", /is not concurrency:N/],
      ["=concurrency:1", /want TYPE=/],
      ["llm", /want TYPE=/],
      // Two limits run together (a list joined with commas): not one limit on type "llm=concurrency:20,rate:50,sleep".
      ["llm=concurrency:20,rate:50,sleep=concurrency:2", /one limit a flag/],
    ];
    for (const [text, why] of bad) {
      expect(() => parseLimitFlag(text), text).toThrow(why);
      expect(() => limitsFrom({ limit: text }), text).toThrow(UsageError);
    }
  });

  it("refuses a second --limit for the same type, naming it (the second replaced the first without a word)", () => {
    expect(() => limitsFrom({ limit: "llm=concurrency:2 search=rate:1 llm=rate:5" })).toThrow(
      expect.objectContaining({
        code: "ERR_USAGE",
        message: expect.stringContaining(
          '--limit llm=rate:5: task type "llm" has a --limit already; give its concurrency and rate in one flag',
        ),
      }),
    );
  });
});
