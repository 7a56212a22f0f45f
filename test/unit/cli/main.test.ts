import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it, vi } from "vitest";
import { DEFAULT_MAX_LIMITS } from "../../../src/agents/limits/limit-store.js";
import { DEFAULT_MAX_SCHEDULES } from "../../../src/agents/schedules/schedule-store.js";
import { coordinatorSpec, upSpec } from "../../../src/cli/commands/specs.js";
import { main } from "../../../src/cli/main.js";
import type { CommandSpec } from "../../../src/cli/options.js";

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

/** `triad ...args` in this process: its exit code and what it wrote to stdout and stderr. */
async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = vi.spyOn(process.stdout, "write").mockImplementation((c) => out.push(String(c)) > 0);
  const e = vi.spyOn(process.stderr, "write").mockImplementation((c) => err.push(String(c)) > 0);
  try {
    const code = await main(args);
    return { code, out: out.join(""), err: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("triad keys|schedule: commands of two words", () => {
  it.each([
    ["schedule", ["add", "list", "rm"]],
    ["keys", ["generate", "list", "revoke"]],
  ])(
    "%s --help lists its sub-commands (exit 0); alone, or with an unknown one, exit 2 saying so",
    async (group, subs) => {
      for (const help of ["--help", "-h", "help"]) {
        const asked = await run([group, help]);
        expect(asked.code).toBe(0);
        expect(asked.out).toContain(`usage: triad ${group} <${subs.join("|")}>`);
        for (const sub of subs) expect(asked.out).toMatch(new RegExp(`^  ${group} ${sub} +\\S`, "m"));
      }
      const alone = await run([group]);
      expect(alone.code).toBe(2);
      expect(alone.err).toContain(`triad ${group}: a sub-command is needed, one of ${subs.join("|")}`);
      expect(alone.err).toContain(`${group} ${subs[0]}`);
      expect(alone.err).not.toContain("unknown command");

      const bogus = await run([group, "bogus"]);
      expect(bogus.code).toBe(2);
      expect(bogus.err).toContain(`triad ${group}: unknown sub-command "bogus"; one of ${subs.join("|")}`);

      const flagFirst = await run([group, "--coordinator", "http://127.0.0.1:1"]);
      expect(flagFirst.code).toBe(2);
      expect(flagFirst.err).toContain("a sub-command is needed");

      const proto = await run([group, "constructor"]);
      expect(proto.code).toBe(2);
      expect(proto.err).toContain('unknown sub-command "constructor"');
    },
  );
});

describe("triad <command>: numbers checked before anything runs", () => {
  it.each([
    [["coordinator", "--id", "c", "--redis", "redis://127.0.0.1:1", "--port"]],
    [
      [
        "distributor",
        "--id",
        "d",
        "--coordinator",
        "http://127.0.0.1:1",
        "--redis",
        "redis://127.0.0.1:1",
        "--port",
      ],
    ],
    [["worker", "--id", "w", "--distributor", "http://127.0.0.1:1", "--port"]],
    [["up", "--port"]],
  ])("%j P: a port from 0 to 65535, a usage error (exit 2) otherwise", async (args) => {
    for (const bad of ["99999", "65536", "-1", "1.5"]) {
      const r = await run([...args, bad]);
      expect(r.code, `--port ${bad}`).toBe(2);
      expect(r.err).toContain(`--port must be an integer from 0 to 65535 (got ${bad})`);
    }
    const word = await run([...args, "abc"]);
    expect(word.code).toBe(2);
    expect(word.err).toContain('--port must be a number (got "abc")');
  });

  it("up --tasks: an integer from 0 to 50000 (the demo makes and waits on every task in one process)", async () => {
    for (const bad of ["-1", "1.5", "50001", "1e30"]) {
      const r = await run(["up", "--tasks", bad]);
      expect(r.code, `--tasks ${bad}`).toBe(2);
      expect(r.err).toContain(
        bad.includes("e")
          ? `--tasks must be written in decimal digits, as an integer from 0 to 50000 (got "${bad}")`
          : `--tasks must be an integer from 0 to 50000 (got ${bad})`,
      );
    }
  });

  it.each([
    [["worker", "--id", "w", "--distributor", "http://127.0.0.1:1", "--port", "0"], "concurrency"],
    [["worker", "--id", "w", "--distributor", "http://127.0.0.1:1", "--port", "0"], "a2a-concurrency"],
    [["up"], "concurrency"],
  ])(
    "%j --%s: an integer >= 1, refused at once (a worker would wait for its distributor first)",
    async (args, flag) => {
      for (const bad of ["0", "-1", "1.5"]) {
        const r = await run([...args, `--${flag}`, bad]);
        expect(r.code, `--${flag} ${bad}`).toBe(2);
        expect(r.err).toContain(`--${flag} must be an integer >= 1 (got ${bad})`);
      }
    },
  );

  it("worker --a2a-reconnect-window: ms as an integer >= 0 (0: not waited for), listed in --help", async () => {
    const args = ["worker", "--id", "w", "--distributor", "http://127.0.0.1:1", "--port", "0"];
    for (const bad of ["-1", "1.5", "soon"]) {
      const r = await run([...args, "--a2a-reconnect-window", bad]);
      expect(r.code, `--a2a-reconnect-window ${bad}`).toBe(2);
      expect(r.err).toMatch(/--a2a-reconnect-window must be (an integer >= 0|a number)/);
    }
    const help = await run(["worker", "--help"]);
    expect(help.out).toMatch(
      /--a2a-reconnect-window\s+ms a remote task waits .*default 10000; env TRIAD_A2A_RECONNECT_WINDOW/,
    );
  });

  it.each([
    [["coordinator", "--id", "c", "--redis", "redis://127.0.0.1:1", "--port", "0"], "max-schedules", 10_000],
    [["coordinator", "--id", "c", "--redis", "redis://127.0.0.1:1", "--port", "0"], "max-limits", 1_000],
    [["up"], "max-schedules", 10_000],
    [["up"], "max-limits", 1_000],
  ])(
    "%j --%s: an integer >= 1 in decimal, given once, listed in --help with its default and env",
    async (args, flag, byDefault) => {
      for (const bad of ["0", "-1", "1.5", "9007199254740992"]) {
        const r = await run([...args, `--${flag}`, bad]);
        expect(r.code, `--${flag} ${bad}`).toBe(2);
        expect(r.err).toContain(`--${flag} must be an integer from 1 to 9007199254740991 (got ${bad})`);
        expect(r.err).toContain("[ERR_USAGE]");
      }
      for (const bad of ["0x10", "1e3", " 5"]) {
        const r = await run([...args, `--${flag}`, bad]);
        expect(r.code, `--${flag} ${JSON.stringify(bad)}`).toBe(2);
        expect(r.err).toContain(`--${flag} must be written in decimal digits`);
      }
      const twice = await run([...args, `--${flag}`, "5", `--${flag}`, "6"]);
      expect(twice.code).toBe(2);
      expect(twice.err).toContain(`--${flag} is given more than once`);
      expect(twice.err).toContain("[ERR_REPEATED_FLAG]");
      const help = await run([args[0]!, "--help"]);
      const env = `TRIAD_${flag.toUpperCase().replace("-", "_")}`;
      expect(help.out).toMatch(new RegExp(`--${flag}\\s+\\S.*\\(default ${byDefault}; env ${env}\\)`));
    },
  );

  it("the flags' defaults are the coordinator's own (specs.ts loads no agent module, so it writes them out)", () => {
    const flag = (spec: CommandSpec, name: string) => spec.flags.find((f) => f.name === name)?.default;
    for (const spec of [coordinatorSpec, upSpec]) {
      expect(flag(spec, "max-schedules")).toBe(DEFAULT_MAX_SCHEDULES);
      expect(flag(spec, "max-limits")).toBe(DEFAULT_MAX_LIMITS);
    }
  });

  it.each([
    [["coordinator", "--id", "c", "--redis", "redis://127.0.0.1:1", "--port", "0"]],
    [["up", "--port", "0"]],
  ])("%j: more --limit types than --max-limits is a usage error before anything starts", async (args) => {
    const r = await run([...args, "--limit", "a=concurrency:1", "--limit", "b=rate:2", "--max-limits", "1"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--limit gives 2 task types a limit, more than --max-limits 1 allows");
    expect(r.err).toContain("[ERR_TOO_MANY_LIMITS]");
  });

  it("submit --count: an integer from 1 to 10000000, refused before anything is made or sent", async () => {
    // Port 1: nothing listens; a request would fail with exit 1, not the usage error.
    for (const bad of ["0", "-1", "1.5", "10000001", "1e9", "1e30"]) {
      const r = await run([
        "submit",
        "--coordinator",
        "http://127.0.0.1:1",
        "--type",
        "echo",
        "--count",
        bad,
      ]);
      expect(r.code, `--count ${bad}`).toBe(2);
      expect(r.err).toContain(
        bad.includes("e")
          ? `--count must be written in decimal digits, as an integer from 1 to 10000000 (got "${bad}")`
          : `--count must be an integer from 1 to 10000000 (got ${bad})`,
      );
    }
  });

  it("submit --timeout: checked before any task is sent (0 to 300000 ms, the coordinator's longest wait)", async () => {
    // Port 1: nothing listens; a request would fail with exit 1, not the usage error.
    for (const bad of ["-5", "300001"]) {
      const r = await run([
        "submit",
        "--coordinator",
        "http://127.0.0.1:1",
        "--type",
        "echo",
        "--timeout",
        bad,
        "--wait",
      ]);
      expect(r.code, `--timeout ${bad}`).toBe(2);
      expect(r.err).toContain(`--timeout must be a number from 0 to 300000 (got ${bad})`);
    }
  });
});

describe("triad <command>: agent URLs are http:// or https://", () => {
  const R = ["--redis", "redis://127.0.0.1:1"];
  it.each([
    [
      ["worker", "--id", "w", "--port", "0", "--distributor"],
      "ftp://x:1",
      "distributor",
      "an http:// or https:// URL",
    ],
    [
      ["worker", "--id", "w", "--port", "0", "--distributor"],
      "127.0.0.1:7401",
      "distributor",
      "an http:// or https:// URL",
    ],
    [
      ["distributor", "--id", "d", ...R, "--port", "0", "--coordinator"],
      "ftp://x:1",
      "coordinator",
      "http:// or https:// URLs",
    ],
    [
      ["distributor", "--id", "d", ...R, "--port", "0", "--coordinator"],
      "http://127.0.0.1:1,ws://127.0.0.1:2",
      "coordinator",
      "http:// or https:// URLs",
    ],
    [
      [
        "distributor",
        "--id",
        "d",
        ...R,
        "--port",
        "0",
        "--coordinator",
        "http://127.0.0.1:1",
        "--advertise-url",
      ],
      "tcp://h:1",
      "advertise-url",
      "an http:// or https:// URL",
    ],
    [["submit", "--type", "echo", "--coordinator"], "ftp://x:1", "coordinator", "http:// or https:// URLs"],
    [
      ["worker", "--id", "w", "--port", "0", "--distributor", "http://127.0.0.1:1", "--a2a-agent"],
      "notaurl",
      "a2a-agent",
      "http:// or https:// URLs",
    ],
    [
      ["worker", "--id", "w", "--port", "0", "--distributor", "http://127.0.0.1:1", "--a2a-agent"],
      "ftp://x:1",
      "a2a-agent",
      "http:// or https:// URLs",
    ],
    [["status", "--coordinator"], "localhost:7400", "coordinator", "http:// or https:// URLs"],
  ])(
    "%j %s: a usage error (exit 2) naming --%s, before anything waits for it",
    async (args, bad, flag, what) => {
      const r = await run([...args, bad]);
      expect(r.code).toBe(2);
      const item = bad.includes(",") ? bad.split(",")[1] : bad;
      expect(r.err).toContain(`triad ${args[0]}: --${flag} must be ${what} (got "${item}")`);
    },
  );

  it("the same from the environment, naming the variable", async () => {
    process.env.TRIAD_DISTRIBUTOR = "ftp://x:1";
    try {
      const r = await run(["worker", "--id", "w", "--port", "0"]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('TRIAD_DISTRIBUTOR must be an http:// or https:// URL (got "ftp://x:1")');
    } finally {
      delete process.env.TRIAD_DISTRIBUTOR;
    }
  });

  it("TRIAD_A2A_AGENT takes several URLs, space-separated, and names the one that is not", async () => {
    process.env.TRIAD_A2A_AGENT = "http://127.0.0.1:1  127.0.0.1:9999";
    try {
      const r = await run(["worker", "--id", "w", "--port", "0", "--distributor", "http://127.0.0.1:1"]);
      expect(r.code).toBe(2);
      expect(r.err).toContain('TRIAD_A2A_AGENT must be http:// or https:// URLs (got "127.0.0.1:9999")');
    } finally {
      delete process.env.TRIAD_A2A_AGENT;
    }
  });
});

describe("triad <command>: flags that do not go together", () => {
  it("submit --type with --file is refused (exit 2), naming both, before anything is sent", async () => {
    const r = await run([
      "submit",
      "--coordinator",
      "http://127.0.0.1:1",
      "--type",
      "echo",
      "--file",
      "/no/such/file",
    ]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--type and --file cannot be given together");
  });

  it("status --follow without --task is refused (exit 2)", async () => {
    const r = await run(["status", "--coordinator", "http://127.0.0.1:1", "--follow"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("--follow follows one task: give --task ID with it");
  });
});

describe("triad <command> --help: --coordinator", () => {
  it.each([
    "distributor",
    "submit",
    "status",
    "cancel",
    "input",
    "schedule add",
    "schedule list",
    "schedule rm",
  ])("%s says the flag takes a comma-separated list, tried in order", async (name) => {
    const { code, out } = await run([...name.split(" "), "--help"]);
    expect(code).toBe(0);
    const line = out.split("\n").find((l) => l.trimStart().startsWith("--coordinator"));
    expect(line).toMatch(/comma-separated, tried in order/);
  });
});

describe("triad <command> --help: --log-level", () => {
  it("lists every level it takes (logging.ts takes fatal too)", async () => {
    const { out } = await run(["status", "--help"]);
    const line = out.split("\n").find((l) => l.trimStart().startsWith("--log-level"));
    expect(line).toContain("trace, debug, info, warn, error, fatal or silent");
  });
});

describe("triad schedule list --help", () => {
  it("says the table shows the next run and last tick, and --json the recent tasks (the table has no such column)", async () => {
    const { code, out } = await run(["schedule", "list", "--help"]);
    expect(code).toBe(0);
    const summary = out.split("\n")[0]!;
    expect(summary).toContain(
      "when each runs next and its last tick (with --json, also the ids of its recent tasks)",
    );
    expect(out.split("\n").find((l) => l.trimStart().startsWith("--json"))).toContain("recent_task_ids");
  });
});

describe("triad <command>: a usage error says its code, as every other error does", () => {
  const coordinator = ["--coordinator", "http://127.0.0.1:1"];

  it("--payload that is not JSON: ERR_MALFORMED_JSON (as a --file that is not), exit 2", async () => {
    const r = await run(["submit", ...coordinator, "--type", "echo", "--payload", "not json"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^triad submit: --payload is not JSON: .* \[ERR_MALFORMED_JSON\]\n/);
  });

  it("input --value that is not JSON: ERR_MALFORMED_JSON, exit 2", async () => {
    const input = await run(["input", ...coordinator, "--task", "t1", "--value", "{nope"]);
    expect(input.code).toBe(2);
    expect(input.err).toMatch(/^triad input: --value is not JSON: .* \[ERR_MALFORMED_JSON\]\n/);
  });

  it("an unknown option, an unknown config key, an unknown command: ERR_USAGE, exit 2", async () => {
    const option = await run(["submit", ...coordinator, "--type", "echo", "--bogus", "1"]);
    expect(option.code).toBe(2);
    expect(option.err).toMatch(/^triad submit: unknown option --bogus \[ERR_USAGE\]\n/);

    const dir = mkdtempSync(join(tmpdir(), "triad-usage-"));
    try {
      const config = join(dir, "config.json");
      writeFileSync(config, JSON.stringify({ coordinator: "http://127.0.0.1:1", bogus: 1 }));
      const key = await run(["status", "--config", config]);
      expect(key.code).toBe(2);
      expect(key.err).toMatch(/^triad status: config file .* unknown option "bogus" \[ERR_USAGE\]\n/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const command = await run(["sumbit"]);
    expect(command.code).toBe(2);
    expect(command.err).toMatch(/^triad: unknown command "sumbit" \[ERR_USAGE\]\n/);
  });
});
