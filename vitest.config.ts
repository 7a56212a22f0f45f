import { fileURLToPath } from "node:url";
import { configDefaults, defineConfig } from "vitest/config";
import { PROCESS_TEST_MS, processTestFiles, WORK_MS } from "./test/helpers/test-budgets.js";

/**
 * Two groups, one after the other: every test file but the chaos suite, two files at a time
 * (most of their time is spent waiting on processes, sockets and timers), then the chaos suite
 * alone (its scenarios kill and pause processes on a schedule, and measure detection times; its
 * one file runs two short scenarios at a time, see test/chaos/chaos.test.ts).
 *
 * The unit tests share their worker processes (no fresh process and import per file): each of
 * their files runs in ~0.2 s, and the fresh process and import took ~2 s a file. A unit test
 * that needs a process of its own (it checks what the package leaves process-wide, like
 * AsyncLocalStorage's hooks) is listed in ISOLATED and gets one.
 *
 * The other files share theirs too: a fresh process per file imported the package and its
 * dependencies (LangGraph alone ~0.6 s) each time, 120 s of import over a run, and the suite
 * took ~575 s instead of ~500. It holds because every file stops what it starts (agents,
 * servers, listeners, a global tracer) and names its stores and key prefixes after itself; a
 * file that cannot belongs in a project with `isolate: true`.
 *
 * A test or hook has WORK_MS (30 s) for its work. The files that start processes (`bin/triad`,
 * an agent script, Chromium: test/helpers/test-budgets.ts finds them by what they call) are the
 * "processes" project, whose tests and hooks have PROCESS_TEST_MS: one start-up at its bound
 * (START_UP_MS, 60 s) on top, since on a loaded 2-core machine a process took more than 30 s to
 * say it was ready. Not a raise for every test: a test that hangs elsewhere still fails at
 * 30 s, and in a processes file its waits (TriadProcess.waitFor, until) fail first, naming what
 * never came. See docs/DESIGN.md, "Testing under load".
 */
const CHAOS = ["test/chaos/**/*.test.ts"];
const UNIT = ["test/unit/**/*.test.ts"];
/** The test files that start processes (their tests and hooks get PROCESS_TEST_MS). */
export const PROCESSES = processTestFiles(
  fileURLToPath(new URL(".", import.meta.url)),
  ["test", "src"],
  /^test\/chaos\//,
);
const ISOLATED = [
  "test/unit/state/langgraph-agent.test.ts",
  // Sets a shared constant to another value with vi.mock, for the modules it imports.
  "test/unit/state/task-id-bound.test.ts",
  // Counts the timers left armed process-wide (vi.getTimerCount): a timer chain another file in a
  // shared process left running re-arms under its fake timers and is counted (1 of a CI run).
  "test/unit/worker/stop-attempts.test.ts",
];

export default defineConfig({
  test: {
    // Every message an agent hands over without a copy is frozen: code that changes one, on
    // either side, throws in the tests instead of reaching into another agent (A2ARouterOptions).
    env: { TRIAD_FREEZE_HANDED_OVER: "1" },
    testTimeout: WORK_MS,
    hookTimeout: WORK_MS,
    pool: "forks",
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "unit",
          include: UNIT,
          exclude: [...configDefaults.exclude, ...ISOLATED, ...PROCESSES],
          isolate: false,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "suite",
          include: ["test/**/*.test.ts", "src/**/*.test.ts"],
          exclude: [...configDefaults.exclude, ...CHAOS, ...UNIT, ...PROCESSES],
          isolate: false,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: "processes",
          include: PROCESSES,
          testTimeout: PROCESS_TEST_MS,
          hookTimeout: PROCESS_TEST_MS,
          isolate: false,
          maxWorkers: 2,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: "unit-isolated", include: ISOLATED, maxWorkers: 1, sequence: { groupOrder: 0 } },
      },
      {
        extends: true,
        test: {
          name: "chaos",
          include: CHAOS,
          maxWorkers: 1,
          maxConcurrency: 2,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
