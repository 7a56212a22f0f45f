import { describe, expect, it } from "vitest";
import config, { PROCESSES } from "../../../vitest.config.js";
import { PROCESS_TEST_MS, START_UP_MS, STARTS_PROCESSES, WORK_MS } from "../../helpers/test-budgets.js";

/**
 * The suite's time budgets (vitest.config.ts, test/helpers/test-budgets.ts): a test or hook in a
 * file that starts processes has a process's start-up on top of its work, and only those do.
 * Under load a `bin/triad` start took more than the 30 s every test had, and tests whose own
 * waits allowed 60 s for it were cut off at 30 s by vitest, with nothing wrong.
 */

type Project = {
  test: { name: string; include?: string[]; exclude?: string[]; testTimeout?: number; hookTimeout?: number };
};
const projects = (config.test?.projects ?? []) as Project[];
const project = (name: string) => projects.find((p) => p.test.name === name)?.test;

describe("test budgets (vitest.config.ts)", () => {
  it("gives the tests and hooks of files that start processes a start-up on top of their work", () => {
    const processes = project("processes");
    expect(processes?.testTimeout).toBe(PROCESS_TEST_MS);
    expect(processes?.hookTimeout).toBe(PROCESS_TEST_MS);
    expect(PROCESS_TEST_MS).toBeGreaterThanOrEqual(START_UP_MS + WORK_MS);
    expect(config.test?.testTimeout).toBe(WORK_MS);
    expect(config.test?.hookTimeout).toBe(WORK_MS);
  });

  it("finds the files that start bin/triad, an agent script or Chromium, and only them", () => {
    for (const file of [
      "test/e2e/dashboard.test.ts", // `triad up` in beforeAll
      "test/e2e/cli.test.ts", // runs bin/triad commands
      "test/e2e/cli-startup.test.ts", // node itself, by its path
      "test/e2e/dashboard-edges.test.ts", // Chromium
      "test/integration/messaging/two-processes.test.ts", // an agent script
      "test/fuzz/processes.test.ts", // the fuzz cluster of processes
    ])
      expect(PROCESSES, file).toContain(file);
    for (const file of ["test/integration/agents/cluster.test.ts", "test/unit/worker/drain.test.ts"])
      expect(PROCESSES, file).not.toContain(file);
    expect(PROCESSES.some((f) => f.startsWith("test/chaos/"))).toBe(false); // the chaos project has its own
    // (Pieced together here, so that this file does not read as one that starts processes.)
    expect(STARTS_PROCESSES.test(`spawn(\n  process${".execPath"}, [script])`)).toBe(true);
    expect(STARTS_PROCESSES.test('spawn("redis-server", args)')).toBe(false); // starts in milliseconds
    expect(STARTS_PROCESSES.test(`start${"SideBySide"}([["coordinator"]])`)).toBe(true);
  });

  it("runs each file that starts processes in the processes project alone", () => {
    expect(PROCESSES).not.toContain("test/unit/helpers/test-budgets.test.ts");
    for (const name of ["unit", "suite"])
      expect(project(name)?.exclude).toEqual(expect.arrayContaining(PROCESSES));
    expect(project("processes")?.include).toEqual(PROCESSES);
  });
});
