import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type CommandSpec, helpText, parseOptions, UsageError } from "../../../src/cli/options.js";

/** Configuration: flags, then TRIAD_* environment, then a JSON config file, then defaults. */

const spec: CommandSpec = {
  name: "demo",
  summary: "A command for the test.",
  usage: "triad demo --port P",
  flags: [
    { name: "port", type: "number", description: "port", required: true },
    { name: "redis", type: "string", description: "store", default: "memory://" },
    { name: "keep", type: "boolean", description: "keep", default: false },
  ],
};

function configFile(content: object): string {
  const path = join(mkdtempSync(join(tmpdir(), "triad-cfg-")), "triad.json");
  writeFileSync(path, JSON.stringify(content));
  return path;
}

describe("triad options", () => {
  it("takes a flag over the environment, the environment over the config file, the file over the default", () => {
    const file = configFile({ port: 1, redis: "redis://from-file:6379", keep: true });
    expect(parseOptions(spec, ["--config", file], {})).toMatchObject({
      port: 1,
      redis: "redis://from-file:6379",
      keep: true,
    });
    expect(parseOptions(spec, ["--config", file], { TRIAD_PORT: "2", TRIAD_KEEP: "no" })).toMatchObject({
      port: 2,
      keep: false,
    });
    expect(parseOptions(spec, ["--config", file, "--port", "3"], { TRIAD_PORT: "2" })).toMatchObject({
      port: 3,
    });
    expect(parseOptions(spec, ["--port=4"], {})).toMatchObject({ port: 4, redis: "memory://", keep: false });
    expect(parseOptions(spec, ["--port", "5"], { TRIAD_CONFIG: file })).toMatchObject({
      port: 5,
      redis: "redis://from-file:6379",
    });
  });

  it.each([
    [["--port"], /--port needs a value/],
    [["--port", "x"], /--port must be a number \(got "x"\)/],
    [["--nope", "1"], /unknown option --nope/],
    [[], /missing required option --port/],
    [["--keep=yes", "--port", "1"], /--keep takes no value/],
    [["stray"], /unexpected argument "stray"/],
  ])("refuses %j with a usage error that says what was wrong", (argv, message) => {
    expect(() => parseOptions(spec, argv as string[], {})).toThrow(UsageError);
    expect(() => parseOptions(spec, argv as string[], {})).toThrow(message);
  });

  it("a repeatable flag keeps every value given, space-separated (as its environment variable lists them)", () => {
    const repeated: CommandSpec = {
      ...spec,
      flags: [...spec.flags, { name: "agent", type: "string", description: "agents", repeatable: true }],
    };
    expect(
      parseOptions(repeated, ["--port", "1", "--agent", "http://a", "--agent=http://b"], {}),
    ).toMatchObject({
      agent: "http://a http://b",
    });
    expect(parseOptions(repeated, ["--port", "1"], { TRIAD_AGENT: "http://a http://b" }).agent).toBe(
      "http://a http://b",
    );
  });

  it("a flag that takes one value, given twice, is a usage error naming it (which one counts was the parser's choice)", () => {
    for (const [name, argv] of [
      ["port", ["--port", "1", "--port", "2"]],
      ["port", ["--port=1", "--port", "1"]],
      ["redis", ["--port", "1", "--redis", "memory://a", "--redis=memory://b"]],
      ["keep", ["--port", "1", "--keep", "--no-keep"]],
      ["keep", ["--port", "1", "--keep", "--keep"]],
    ] as const) {
      let err: unknown;
      try {
        parseOptions(spec, [...argv], {});
      } catch (e) {
        err = e;
      }
      expect(err, argv.join(" ")).toBeInstanceOf(UsageError);
      expect(err).toMatchObject({
        code: "ERR_REPEATED_FLAG",
        message: `--${name} is given more than once; it takes one value (give it once)`,
      });
    }
    // A flag and its environment variable (or config file) are not a repeat: the flag wins.
    expect(parseOptions(spec, ["--port", "3"], { TRIAD_PORT: "2" }).port).toBe(3);
  });

  it("a number flag is decimal digits only: hex, binary, an exponent or white space around is a usage error naming it", () => {
    const ranged: CommandSpec = {
      ...spec,
      flags: [
        { name: "port", type: "number", description: "port", integer: true, min: 0, max: 65_535 },
        { name: "rate", type: "number", description: "rate" },
      ],
    };
    for (const raw of ["0x10", "0b11", "0o7", "1e3", " 5 ", "5 ", "\t5", "1_000", "Infinity", "+0x1"]) {
      expect(() => parseOptions(ranged, ["--port", raw], {}), JSON.stringify(raw)).toThrow(
        `--port must be ${Number.isFinite(Number(raw)) ? "written in decimal digits, as an integer from 0 to 65535" : "a number"} (got ${JSON.stringify(raw)})`,
      );
      expect(() => parseOptions(ranged, [], { TRIAD_PORT: raw }), JSON.stringify(raw)).toThrow(
        /^TRIAD_PORT must be/,
      );
    }
    expect(() => parseOptions(ranged, ["--rate", "1e-3"], {})).toThrow(
      '--rate must be written in decimal digits, as a number (got "1e-3")',
    );
    // In a config file: a JSON string is text as on the command line; a JSON number is a number.
    expect(() => parseOptions(ranged, ["--config", configFile({ port: "0x10" })], {})).toThrow(
      /port must be written in decimal digits/,
    );
    expect(parseOptions(ranged, ["--config", configFile({ rate: 1e-7, port: 1 })], {})).toMatchObject({
      rate: 1e-7,
      port: 1,
    });
    // Decimal forms are taken.
    for (const [raw, n] of [
      ["16", 16],
      ["+7", 7],
      ["0.5", 0.5],
      [".5", 0.5],
      ["-2.25", -2.25],
      ["007", 7],
    ] as const)
      expect(parseOptions(ranged, ["--rate", raw, "--port", "1"], {}).rate).toBe(n);
  });

  it("names the environment variable or the file when a value there is bad", () => {
    expect(() => parseOptions(spec, [], { TRIAD_PORT: "seven" })).toThrow(/TRIAD_PORT must be a number/);
    const file = configFile({ port: "seven" });
    expect(() => parseOptions(spec, ["--config", file], {})).toThrow(
      new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: port must be a number`),
    );
    expect(() => parseOptions(spec, ["--config", "/no/such/file.json", "--port", "1"], {})).toThrow(
      /cannot read config file/,
    );
  });

  it("a number flag's range (integer, min, max) holds for a flag, the environment and the config file alike", () => {
    const ranged: CommandSpec = {
      ...spec,
      flags: [{ name: "port", type: "number", description: "port", integer: true, min: 0, max: 65_535 }],
    };
    expect(parseOptions(ranged, ["--port", "0"], {}).port).toBe(0);
    expect(parseOptions(ranged, ["--port", "65535"], {}).port).toBe(65_535);
    const message = /--port must be an integer from 0 to 65535 \(got /;
    for (const bad of ["65536", "-1", "1.5"])
      expect(() => parseOptions(ranged, ["--port", bad], {})).toThrow(message);
    expect(() => parseOptions(ranged, [], { TRIAD_PORT: "99999" })).toThrow(
      /TRIAD_PORT must be an integer from 0 to 65535 \(got 99999\)/,
    );
    const file = configFile({ port: -1 });
    expect(() => parseOptions(ranged, ["--config", file], {})).toThrow(
      /port must be an integer from 0 to 65535/,
    );
    const atLeast: CommandSpec = {
      ...spec,
      flags: [{ name: "n", type: "number", description: "n", min: 0 }],
    };
    expect(() => parseOptions(atLeast, ["--n", "-0.5"], {})).toThrow(
      /--n must be a number >= 0 \(got -0.5\)/,
    );
  });

  it("a config file's list is a repeatable option given once per item, an object a string option's JSON", () => {
    const withLists: CommandSpec = {
      ...spec,
      flags: [
        ...spec.flags,
        { name: "limit", type: "string", description: "limit", repeatable: true },
        { name: "payload", type: "string", description: "JSON" },
      ],
    };
    const file = configFile({
      port: 1,
      limit: ["llm=concurrency:20,rate:50", "sleep=concurrency:2"],
      payload: { a: 1, b: [2] },
    });
    expect(parseOptions(withLists, ["--config", file], {})).toMatchObject({
      limit: "llm=concurrency:20,rate:50 sleep=concurrency:2",
      payload: '{"a":1,"b":[2]}',
    });
    // As given twice on the command line.
    expect(
      parseOptions(withLists, ["--port", "1", "--limit", "a=rate:1", "--limit", "b=rate:2"], {}).limit,
    ).toBe("a=rate:1 b=rate:2");
    for (const [content, why] of [
      [{ port: 1, limit: ["a=rate:1 b=rate:2"] }, /limit\[0\] must be one value without spaces/],
      [{ port: 1, limit: [] }, /limit is an empty list/],
      [{ port: 1, limit: [{ a: 1 }] }, /limit\[0\] must be a string/],
      [{ port: [1, 2] }, /port must be a number/],
      [{ port: 1, keep: null }, /keep must be a boolean \(got null\)/],
    ] as const) {
      expect(
        () => parseOptions(withLists, ["--config", configFile(content)], {}),
        JSON.stringify(content),
      ).toThrow(why);
    }
  });

  it("a config file's key no command takes is refused; one another command takes is passed over", () => {
    const typo = configFile({ port: 1, bogus: 1 });
    expect(() => parseOptions(spec, ["--config", typo], {})).toThrow(/unknown option "bogus"/);
    expect(() => parseOptions(spec, ["--config", typo], {}, new Set(["concurrency"]))).toThrow(
      /unknown option "bogus"/,
    );
    const shared = configFile({ port: 1, concurrency: 8 });
    expect(parseOptions(spec, ["--config", shared], {}, new Set(["concurrency"]))).toMatchObject({ port: 1 });
    expect(() => parseOptions(spec, ["--config", shared], {})).toThrow(/unknown option "concurrency"/);
  });

  it("--help lists every option with its default and environment variable", () => {
    const text = helpText(spec);
    for (const part of [
      "--port",
      "required",
      "env TRIAD_PORT",
      "--redis",
      "default memory://",
      "--config",
      "--log-level",
    ]) {
      expect(text).toContain(part);
    }
  });
});
