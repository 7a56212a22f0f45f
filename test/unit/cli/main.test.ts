import { describe, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";

describe("triad <command>", () => {
  it.each(["constructor", "toString", "__proto__", "hasOwnProperty"])(
    "refuses %j as an unknown command (exit 2), not Object.prototype's member",
    async (name) => {
      const err = vi.spyOn(process.stderr, "write").mockImplementation(() => true);
      try {
        expect(await main([name])).toBe(2);
        expect(String(err.mock.calls[0]?.[0])).toContain(`triad: unknown command "${name}"`);
      } finally {
        err.mockRestore();
      }
    },
  );
});
