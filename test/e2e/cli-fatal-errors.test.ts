import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { TriadProcess } from "../helpers/processes.js";

/**
 * An error nobody handles in a tier process (here a handlers module's floating rejection) ends
 * it with exit code 1, as Node would, but told through its logger: one JSON line with the error
 * and its stack under --log-format json, not Node's multi-line report in the middle of the log.
 */
describe("triad worker, an unhandled rejection", () => {
  const dir = mkdtempSync(join(tmpdir(), "triad-fatal-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /**
   * Runs a worker whose handlers module (`<name>.mjs`) rejects a promise nobody handles with
   * `message` 200 ms after it is loaded, while the worker keeps asking for a distributor nobody
   * runs; resolves with its exit code and output once it ends.
   */
  const leakyWorker = async (name: string, message: string, logArgs: string[]) => {
    const module = join(dir, `${name}.mjs`);
    writeFileSync(
      module,
      [
        `setTimeout(() => { Promise.reject(new Error(${JSON.stringify(message)})); }, 200);`,
        "export default { leaky: async () => ({ ok: true }) };",
      ].join("\n"),
    );
    const [port, own] = [await freePort(), await freePort()];
    const worker = new TriadProcess(
      [
        "worker",
        "--id",
        name,
        "--distributor",
        `http://127.0.0.1:${port}`,
        "--port",
        String(own),
        "--handlers",
        module,
        ...logArgs,
      ],
      { TRIAD_SECRET: "fatal-errors-test-secret-0123456789" },
    );
    try {
      const { code } = await worker.exit(20_000);
      return { code, output: worker.output };
    } finally {
      await worker.kill();
    }
  };

  it("is logged as one JSON error line with its stack, and the process exits 1", async () => {
    const { code, output } = await leakyWorker(
      "leaky-handlers",
      "a floating rejection in the handlers module",
      ["--log-format", "json"],
    );
    expect(code).toBe(1);
    const lines = output.split("\n").filter((l) => l.trim() !== "");
    // Every line is JSON: no stack printed by Node between them.
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    const fatal = lines.map((l) => JSON.parse(l)).find((e) => /unhandled rejection/.test(e.msg));
    expect(fatal).toMatchObject({ level: 50, msg: "unhandled rejection: the process ends" });
    expect(fatal.err.message).toBe("a floating rejection in the handlers module");
    expect(fatal.err.stack).toContain("leaky-handlers.mjs");
  }, 30_000);

  it("with --log-level silent, is still said on stderr before the process exits 1", async () => {
    const { code, output } = await leakyWorker(
      "leaky-handlers-silent",
      "a floating rejection, logs silenced",
      ["--log-level", "silent"],
    );
    expect(code).toBe(1);
    expect(output).toContain("unhandled rejection: the process ends");
    expect(output).toContain("Error: a floating rejection, logs silenced");
  }, 30_000);

  it("in triad up with --log-level silent, is still said on stderr before the process exits 1", async () => {
    const module = join(dir, "leaky-up.mjs");
    writeFileSync(
      module,
      [
        `setTimeout(() => { Promise.reject(new Error("a floating rejection in up")); }, 200);`,
        "export default { leaky: async () => ({ ok: true }) };",
      ].join("\n"),
    );
    const up = new TriadProcess(
      [
        "up",
        "--tasks",
        "0",
        "--keep",
        "--port",
        String(await freePort()),
        "--handlers",
        module,
        "--log-level",
        "silent",
      ],
      { TRIAD_SECRET: "fatal-errors-test-secret-0123456789" },
    );
    try {
      const { code } = await up.exit(20_000);
      expect(code).toBe(1);
      expect(up.output).toContain("unhandled rejection: the process ends");
      expect(up.output).toContain("Error: a floating rejection in up");
    } finally {
      await up.kill();
    }
  }, 30_000);
});
