import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { runTriad } from "../helpers/processes.js";

/**
 * What a tier command refuses before it starts anything: an agent id that would not survive
 * the Redis keys, URLs, log lines and A2A messages it goes into, and a TRIAD_SECRET short
 * enough to guess. The refusal is a usage error (exit 2) that says what is wrong and what to do,
 * with its code.
 */

const env = { TRIAD_SECRET: "input-checks-secret-0123456789", TRIAD_LOG_LEVEL: "warn" };

describe("an agent id (--id, TRIAD_ID, a config file's id; keys generate --agent)", () => {
  const dir = mkdtempSync(join(tmpdir(), "triad-input-checks-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing listens there: a command that got past its checks fails on the store (exit 1).
  const nowhere = "redis://127.0.0.1:1";
  const peer = "http://127.0.0.1:1";
  const tiers: Record<string, string[]> = {
    coordinator: ["coordinator", "--redis", nowhere, "--port", "0"],
    distributor: ["distributor", "--coordinator", peer, "--redis", nowhere, "--port", "0"],
    worker: ["worker", "--distributor", peer, "--port", "0"],
  };

  it.each([
    ["coordinator", "a b/c", /it holds a space/],
    ["distributor", "d/1", /it holds the character "\/"/],
    ["worker", "w\u00011", /it holds a control character \(U\+0001\)/],
    ["worker", "w\t1", /it holds a whitespace character \(U\+0009\)/],
    ["coordinator", `c${"x".repeat(128)}`, /it is 129 characters long/],
  ])("triad %s --id %j: exit 2, naming what is wrong and what an id may hold", async (tier, id, why) => {
    const r = await runTriad([...tiers[tier]!, "--id", id], { env, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`triad ${tier}: --id ${JSON.stringify(id)} is not an agent id: `);
    expect(r.stderr).toMatch(why);
    expect(r.stderr).toContain('use letters, digits, ".", "_", "-" and ":" only, 1 to 128 characters');
    expect(r.stderr).toContain("[ERR_BAD_AGENT_ID]");
    expect(r.stdout).not.toMatch(/^ready /m);
  });

  it("from TRIAD_ID and from a config file alike", async () => {
    const fromEnv = await runTriad(tiers.coordinator!, { env: { ...env, TRIAD_ID: "c 1" } });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toContain('TRIAD_ID "c 1" is not an agent id: it holds a space');
    const config = join(dir, "bad-id.json");
    writeFileSync(config, JSON.stringify({ id: "../c1" }));
    const fromFile = await runTriad([...tiers.coordinator!, "--config", config], { env });
    expect(fromFile.code).toBe(2);
    expect(fromFile.stderr).toContain(`${config}: id "../c1" is not an agent id: it holds the character "/"`);
  });

  it("keys generate --agent takes only what an agent may be started with", async () => {
    const r = await runTriad(["keys", "generate", "--agent", "w 1", "--role", "worker", "--redis", nowhere], {
      env,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--agent "w 1" is not an agent id: it holds a space');
  });

  it("letters, digits, '.', '_', '-' and ':' pass (the store is what fails then, exit 1)", async () => {
    const port = await freePort();
    const r = await runTriad(
      ["coordinator", "--id", "eu-west.c_1:a", "--redis", `redis://127.0.0.1:${port}`, "--port", "0"],
      { env, timeoutMs: 30_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("coordinator eu-west.c_1:a cannot reach its store");
    expect(r.stderr).not.toContain("ERR_BAD_AGENT_ID");
  }, 40_000);
});

describe("TRIAD_SECRET shorter than 16 bytes", () => {
  const nowhere = "redis://127.0.0.1:1";
  const peer = "http://127.0.0.1:1";
  const short = "fifteen-bytes!!";

  it.each([
    ["coordinator", ["coordinator", "--id", "c1", "--redis", nowhere, "--port", "0"]],
    ["distributor", ["distributor", "--id", "d1", "--coordinator", peer, "--redis", nowhere, "--port", "0"]],
    ["worker", ["worker", "--id", "w1", "--distributor", peer, "--port", "0"]],
    ["up", ["up", "--tasks", "1", "--port", "0"]],
  ])("triad %s refuses it before it starts: exit 2, saying how to make one", async (tier, args) => {
    const r = await runTriad(args, { env: { ...env, TRIAD_SECRET: short }, timeoutMs: 20_000 });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`triad ${tier}: TRIAD_SECRET is 15 bytes long: `);
    expect(r.stderr).toContain("at least 16");
    expect(r.stderr).toContain("openssl rand -hex 32");
    expect(r.stderr).toContain("[ERR_SECRET_TOO_SHORT]");
    expect(r.stderr).not.toContain(short);
    expect(r.stdout).not.toMatch(/^ready |Triad up/m);
  });

  it("16 bytes pass (the store is what fails then, exit 1)", async () => {
    const port = await freePort();
    const r = await runTriad(
      ["coordinator", "--id", "c1", "--redis", `redis://127.0.0.1:${port}`, "--port", "0"],
      { env: { ...env, TRIAD_SECRET: "sixteen-bytes!!!" }, timeoutMs: 30_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("cannot reach its store");
  }, 40_000);
});

describe("triad submit --file with bad data", () => {
  const dir = mkdtempSync(join(tmpdir(), "triad-submit-data-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // Nothing listens there: the file is refused before anything is sent.
  const nowhere = "http://127.0.0.1:1";

  it.each([
    [
      "tasks whose dependencies form a cycle",
      JSON.stringify([
        { task_id: "a", task_type: "echo", depends_on: ["b"] },
        { task_id: "b", task_type: "echo", depends_on: ["a"] },
      ]),
      "the tasks' dependencies form a cycle: a -> b -> a; nothing was sent [ERR_INVALID_TASK]",
    ],
    ["a JSON array cut short", '[{"task_id":', "is not a JSON array: "],
    ["a JSON line that is not JSON", '{"task_type":"echo"}\n{nope}\n', "line 2 is not JSON: "],
  ])("%s: one error naming the file, with its code, exit 1 (no usage text)", async (_what, text, message) => {
    const file = join(dir, "tasks.json");
    writeFileSync(file, text);
    const r = await runTriad(["submit", "--coordinator", nowhere, "--file", file], { env });
    expect(r.stderr).toContain(`triad submit: ${file}`);
    expect(r.stderr).toContain(message);
    expect(r.stderr).toMatch(/\[ERR_(INVALID_TASK|MALFORMED_JSON)\]\n$/);
    expect(r.stderr).not.toContain("usage:");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(r.code).toBe(1);
    const stdin = await runTriad(["submit", "--coordinator", nowhere, "--file", "-"], { env, input: text });
    expect(stdin.stderr).toContain("triad submit: stdin");
    expect(stdin.code).toBe(1);
  });

  it("a file that is not there, or a directory: one line with its code, exit 1 (not Node's bare ENOENT)", async () => {
    const missing = join(dir, "missing.json");
    for (const [file, line] of [
      [missing, `triad submit: --file ${missing}: no such file [ERR_FILE_NOT_FOUND]\n`],
      [dir, `triad submit: --file ${dir} cannot be read: it is a directory [ERR_FILE_UNREADABLE]\n`],
    ] as const) {
      const r = await runTriad(["submit", "--coordinator", nowhere, "--file", file], { env });
      expect(r.stderr).toBe(line);
      expect(r.code).toBe(1);
    }
  });
});

describe("a blank task type (--type, --a2a-text-type)", () => {
  const nowhere = "redis://127.0.0.1:1";
  const peer = "http://127.0.0.1:1";

  it.each([
    ["submit", "type", ["submit", "--coordinator", peer, "--type", " ", "--payload", "{}"]],
    [
      "coordinator",
      "a2a-text-type",
      ["coordinator", "--id", "c1", "--redis", nowhere, "--port", "0", "--a2a-text-type", "\t"],
    ],
    ["up", "a2a-text-type", ["up", "--tasks", "1", "--port", "0", "--a2a-text-type", " "]],
  ])(
    "triad %s --%s: exit 2 before anything is sent or started, naming the flag",
    async (command, flag, args) => {
      const r = await runTriad(args, { env, timeoutMs: 20_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(`triad ${command}: --${flag} `);
      expect(r.stderr).toContain(": a task type must not be blank (empty or only white space)");
      expect(r.stderr).toContain("[ERR_INVALID_TASK]");
      expect(r.stdout).not.toMatch(/^ready |Triad up/m);
    },
  );
});
