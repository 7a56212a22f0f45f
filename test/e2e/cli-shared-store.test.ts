import { describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";

/**
 * A tier run as its own process takes a store the cluster's processes share: memory:// (one
 * process's embedded store, `triad up`'s) is refused at once, saying why and what to give instead.
 */
describe("triad coordinator|distributor --redis memory://", () => {
  const env = { TRIAD_SECRET: "shared-store-secret", TRIAD_LOG_LEVEL: "warn" };
  it.each([
    ["coordinator", "--id", "c1", "--port", "0"],
    ["distributor", "--id", "d1", "--coordinator", "http://127.0.0.1:1", "--port", "0"],
  ])(
    "%s %s: exit 2, saying the store is one process's and to give a Redis or run triad up",
    async (...args) => {
      for (const url of ["memory://", "memory://mine"]) {
        // Taken, a coordinator would serve (killed at the timeout: exit code null).
        const r = await runTriad([...args, "--redis", url], { env, timeoutMs: 15_000 });
        expect(r.code, r.stderr).toBe(2);
        const first = r.stderr.split("\n")[0]!;
        expect(first).toContain(`--redis ${url} is the embedded store of this one process`);
        expect(first).toContain("redis://host:port");
        expect(first).toContain("triad up");
      }
    },
  );
});
