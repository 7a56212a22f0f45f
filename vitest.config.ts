import { configDefaults, defineConfig } from "vitest/config";

/**
 * Two groups, one after the other: every test file but the chaos suite, two files at a time
 * (most of their time is spent waiting on processes, sockets and timers), then the chaos suite
 * alone (its scenarios kill and pause processes on a schedule, and measure detection times).
 */
const CHAOS = ["test/chaos/**/*.test.ts"];

export default defineConfig({
  test: {
    // Every message an agent hands over without a copy is frozen: code that changes one, on
    // either side, throws in the tests instead of reaching into another agent (A2ARouterOptions).
    env: { TRIAD_FREEZE_HANDED_OVER: "1" },
    testTimeout: 30_000,
    hookTimeout: 30_000,
    pool: "forks",
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts", "src/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...CHAOS],
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "chaos", include: CHAOS, maxWorkers: 1, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
