import { describe, expect, it } from "vitest";
import { FlagError, flagsUsage, parseFlags } from "../../bench/lib/flags.js";

/**
 * The bench scripts' flags (bench/lib/flags.ts): each flag declared once with its kind and
 * default; a run gets the defaults it did not override, and a flag the parser cannot take is
 * refused naming that flag, before a bench starts anything.
 */
const SPECS = {
  mode: { kind: "string", default: "window", choices: ["one", "window", "batch"], help: "how to submit" },
  tasks: { kind: "count", default: 30_000, min: 1, help: "tasks a run" },
  warm: { kind: "count", default: 5000, help: "tasks before them, not measured" },
  rounds: { kind: "count", help: "rounds (default 3; --quick: 1)" },
  linger: { kind: "number", min: 0, help: "batchLingerMs" },
  only: { kind: "list", choices: ["compare", "processes"], help: "sections" },
  modes: { kind: "list", default: "batch,one", help: "ways to submit" },
  dist: { kind: "string", value: "DIR", help: "a build" },
  quick: { kind: "boolean", help: "small sizes" },
  child: { kind: "string", hidden: true, help: "a run's redis URL (the bench's own child)" },
} as const;

function refusal(args: string[]): string {
  try {
    parseFlags(SPECS, args);
  } catch (err) {
    expect(err).toBeInstanceOf(FlagError);
    return (err as Error).message;
  }
  throw new Error(`${JSON.stringify(args)} was taken`);
}

describe("bench flags", () => {
  it("a flag not given has its default, or undefined where it has none", () => {
    expect(parseFlags(SPECS, [])).toEqual({
      mode: "window",
      tasks: 30_000,
      warm: 5000,
      rounds: undefined,
      linger: undefined,
      only: undefined,
      modes: ["batch", "one"],
      dist: undefined,
      quick: false,
      child: undefined,
    });
  });

  it("given values are read by kind, as --flag value or --flag=value", () => {
    const values = parseFlags(SPECS, [
      "--mode",
      "one",
      "--tasks=50",
      "--warm",
      "0",
      "--rounds",
      "7",
      "--linger",
      "0.5",
      "--only",
      "compare, processes",
      "--modes=window",
      "--dist",
      "../before/dist",
      "--quick",
      "--child",
      "redis://127.0.0.1:7201",
    ]);
    expect(values).toEqual({
      mode: "one",
      tasks: 50,
      warm: 0,
      rounds: 7,
      linger: 0.5,
      only: ["compare", "processes"],
      modes: ["window"],
      dist: "../before/dist",
      quick: true,
      child: "redis://127.0.0.1:7201",
    });
  });

  it("the last of a flag given twice wins", () => {
    expect(parseFlags(SPECS, ["--tasks", "10", "--tasks", "20"]).tasks).toBe(20);
  });

  it("an unknown flag is refused by its name", () => {
    expect(refusal(["--tasks", "10", "--pairs", "3"])).toContain("--pairs");
    expect(refusal(["--taks=10"])).toContain("--taks");
  });

  it.each([
    [["--tasks", "two"], "--tasks", "two"],
    [["--tasks", "0"], "--tasks", "0"],
    [["--warm", "-1"], "--warm", "-1"],
    [["--warm", "1.5"], "--warm", "1.5"],
    [["--rounds="], "--rounds", '""'],
    [["--linger", "-2"], "--linger", "-2"],
    [["--linger", "soon"], "--linger", "soon"],
  ])("%j: a bad number is refused naming its flag and the value", (args, flag, value) => {
    const message = refusal(args);
    expect(message).toContain(flag);
    expect(message).toContain(value);
  });

  it("a value outside a flag's choices is refused naming the flag, in a list item by item", () => {
    expect(refusal(["--mode", "fast"])).toMatch(/--mode .*one, window, batch.*fast/);
    expect(refusal(["--only", "compare,memory"])).toMatch(/--only .*memory/);
    expect(refusal(["--only", " , "])).toContain("--only");
  });

  it("a flag without its value, or a switch given one, is refused naming it", () => {
    expect(refusal(["--tasks"])).toContain("--tasks");
    expect(refusal(["--dist", "--quick"])).toContain("--dist");
    expect(refusal(["--quick=yes"])).toContain("--quick");
    expect(refusal(["5000"])).toContain("5000");
  });

  it("a positional flag takes one bare argument, checked as its flag", () => {
    const specs = {
      messages: { kind: "count", default: 20_000, min: 1, positional: true, help: "messages" },
    } as const;
    expect(parseFlags(specs, []).messages).toBe(20_000);
    expect(parseFlags(specs, ["5000"]).messages).toBe(5000);
    expect(parseFlags(specs, ["--messages", "7"]).messages).toBe(7);
    expect(() => parseFlags(specs, ["5000", "6000"])).toThrow(/6000/);
    expect(() => parseFlags(specs, ["many"])).toThrow(/--messages/);
  });

  it("a required flag not given is refused naming it", () => {
    const specs = { redis: { kind: "string", required: true, value: "URL", help: "the Redis" } } as const;
    expect(() => parseFlags(specs, [])).toThrow(/--redis is required/);
    expect(parseFlags(specs, ["--redis", "redis://x"]).redis).toBe("redis://x");
  });

  it("--help lists every flag but the hidden ones, with its value's name and its default", () => {
    const text = flagsUsage("bench/x.ts", SPECS, { about: "Measures x." });
    expect(text).toMatch(/^Usage: npx tsx bench\/x\.ts \[flags\]\n\nMeasures x\.\n/);
    expect(text).toMatch(/--mode one\|window\|batch +how to submit \(default window\)/);
    expect(text).toMatch(/--tasks N +tasks a run \(default 30000\)/);
    expect(text).toMatch(/--dist DIR +a build\n/);
    expect(text).toMatch(/--quick +small sizes\n/);
    expect(text).toContain("-h, --help");
    expect(text).not.toContain("--child");
  });
});
