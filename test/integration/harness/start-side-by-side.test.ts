import { afterAll, describe, expect, it } from "vitest";
import { startSideBySide, type TriadProcess } from "../../helpers/processes.js";

/**
 * test/helpers/processes.ts' startSideBySide, with node processes that stand in for `bin/triad`
 * agents: one that prints its ready line and waits, one that fails before it is ready.
 */
const readyThenWait = (url: string) => [
  "-e",
  `console.log("ready worker x ${url}"); setInterval(() => {}, 1000);`,
];
const failsAtOnce = ["-e", 'console.error("boom: no upstream"); process.exit(3);'];

describe("startSideBySide", () => {
  const procs: TriadProcess[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
  });

  it("resolves with each process and its URL in the order given, each pushed onto `into`", async () => {
    const started = await startSideBySide(
      [
        { args: ["worker", "--id", "a"], script: readyThenWait("http://127.0.0.1:1") },
        { args: ["worker", "--id", "b"], script: readyThenWait("http://127.0.0.1:2") },
      ],
      { into: procs },
    );
    expect(started.map((s) => s.url)).toEqual(["http://127.0.0.1:1", "http://127.0.0.1:2"]);
    expect(procs).toEqual(started.map((s) => s.proc));
    expect(started.every((s) => s.proc.running)).toBe(true);
  });

  it("stops every process it started when one does not get ready, and names that one and why", async () => {
    const into: TriadProcess[] = [];
    const failed = startSideBySide(
      [
        { args: ["coordinator", "--id", "c1"], script: readyThenWait("http://127.0.0.1:3") },
        { args: ["distributor", "--id", "d1"], script: failsAtOnce },
      ],
      { into },
    );
    await expect(failed).rejects.toThrow(
      /^distributor d1 \(2 of 2 started side by side\) did not get ready.*boom: no upstream/s,
    );
    procs.push(...into);
    expect(into).toHaveLength(2);
    expect(into.map((p) => p.running)).toEqual([false, false]);
  });
});
