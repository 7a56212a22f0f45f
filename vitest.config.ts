import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts", "src/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    // Two test files at a time: most tests wait on real processes, heartbeats and timeouts, not CPU.
    // vitest's default (cores - 1) runs one at a time on a 2-core machine: 11 min against 6.
    maxWorkers: 2,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
