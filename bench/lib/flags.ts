// The benchmarks' command-line flags, declared once per script: each flag's kind, default and one
// line of help. `benchFlags` reads process.argv against the declarations, prints `--help` text
// made from them, and refuses an unknown flag or a bad value naming it (exit 2) before the
// script starts anything; `parseFlags` and `flagsUsage` are the same without the process, for
// tests.
import { basename } from "node:path";
import { fileURLToPath } from "node:url";

type Common = {
  /** One line for --help (the default is added after it when there is one). */
  help: string;
  /** The value's name in --help: `--tasks N` (default N, or DIR, URL... as said). */
  value?: string;
  /** Not in --help: a flag one bench script passes to its own child process. */
  hidden?: boolean;
  /** Also taken as a bare argument (`graph-dispatch.ts 5000`); one flag of a script at most. */
  positional?: boolean;
};
export type FlagSpec = Common &
  (
    | { kind: "boolean" }
    | { kind: "string"; default?: string; choices?: readonly string[]; required?: boolean }
    /** Comma-separated, each item trimmed, empty items dropped (none left: refused); `choices` checks each. */
    | { kind: "list"; default?: string; choices?: readonly string[] }
    /** A whole number of at least `min` (default 0). */
    | { kind: "count"; default?: number; min?: number }
    /** A finite number of at least `min` (default: any). */
    | { kind: "number"; default?: number; min?: number }
  );
export type FlagSpecs = Record<string, FlagSpec>;

/** What a script's usage says besides its flags. */
export type Usage = {
  /** The command with its flags, after "Usage: " (default: npx tsx bench/<script> [flags]). */
  command?: string;
  /** What the script does, a paragraph after the usage line. */
  about?: string;
  /** Text after the flags: examples, notes. */
  more?: string;
};

type Item<F> = F extends { choices: readonly (infer C)[] } ? C : string;
type Present<F> = F extends { default: unknown } ? true : F extends { required: true } ? true : false;
type ValueOf<F> = F extends { kind: "boolean" }
  ? boolean
  : Present<F> extends true
    ? BaseOf<F>
    : BaseOf<F> | undefined;
type BaseOf<F> = F extends { kind: "count" | "number" }
  ? number
  : F extends { kind: "list" }
    ? Item<F>[]
    : Item<F>;
export type FlagValues<S extends FlagSpecs> = { [K in keyof S]: ValueOf<S[K]> };

/** A flag the command line got wrong: its message names the flag. */
export class FlagError extends Error {
  readonly code = "ERR_BENCH_FLAG";
}

/** `args` read against `specs`; a FlagError naming the flag for anything it cannot take. */
export function parseFlags<const S extends FlagSpecs>(specs: S, args: readonly string[]): FlagValues<S> {
  const given = new Map<string, string | true>();
  const positional = Object.keys(specs).find((name) => specs[name]!.positional);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith("--")) {
      if (positional === undefined || given.has(positional))
        throw new FlagError(`unexpected argument ${JSON.stringify(arg)}`);
      given.set(positional, arg);
      continue;
    }
    const eq = arg.indexOf("=");
    const name = eq < 0 ? arg.slice(2) : arg.slice(2, eq);
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec === undefined) throw new FlagError(`unknown flag --${name}`);
    if (spec.kind === "boolean") {
      if (eq >= 0) throw new FlagError(`--${name} takes no value`);
      given.set(name, true);
      continue;
    }
    const value = eq >= 0 ? arg.slice(eq + 1) : args[++i];
    if (value === undefined || (eq < 0 && value.startsWith("--")))
      throw new FlagError(`--${name} needs a value`);
    given.set(name, value);
  }
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const raw = given.get(name);
    values[name] = spec.kind === "boolean" ? raw === true : readValue(name, spec, raw);
  }
  return values as FlagValues<S>;
}

function readValue(name: string, spec: Exclude<FlagSpec, { kind: "boolean" }>, raw: unknown): unknown {
  const text = typeof raw === "string" ? raw : undefined;
  switch (spec.kind) {
    case "count":
    case "number": {
      if (text === undefined) return spec.default;
      const n = text.trim() === "" ? Number.NaN : Number(text);
      const min = spec.min ?? (spec.kind === "count" ? 0 : -Infinity);
      const whole = spec.kind === "count" ? Number.isInteger(n) : Number.isFinite(n);
      if (!whole || n < min) {
        const what = spec.kind === "count" ? "a whole number" : "a number";
        const floor = min === -Infinity ? "" : ` of at least ${min}`;
        throw new FlagError(`--${name} must be ${what}${floor}, not ${JSON.stringify(text)}`);
      }
      return n;
    }
    case "list": {
      const list = text ?? spec.default;
      if (list === undefined) return undefined;
      const items = list
        .split(",")
        .map((item) => item.trim())
        .filter((item) => item !== "");
      if (items.length === 0) throw new FlagError(`--${name} needs at least one item`);
      for (const item of items) checkChoice(name, spec.choices, item);
      return items;
    }
    case "string": {
      if (text === undefined && spec.required) throw new FlagError(`--${name} is required`);
      const value = text ?? spec.default;
      if (value !== undefined) checkChoice(name, spec.choices, value);
      return value;
    }
  }
}

function checkChoice(name: string, choices: readonly string[] | undefined, value: string): void {
  if (choices !== undefined && !choices.includes(value))
    throw new FlagError(`--${name} must be one of ${choices.join(", ")}, not ${JSON.stringify(value)}`);
}

/** The --help text of `script` (its path from the repository, as bench/ab.ts). */
export function flagsUsage(script: string, specs: FlagSpecs, usage: Usage = {}): string {
  const rows: Array<[string, string]> = [];
  for (const [name, spec] of Object.entries(specs)) {
    if (spec.hidden) continue;
    const value = spec.kind === "boolean" ? "" : ` ${spec.value ?? defaultValueName(spec)}`;
    const shown = "default" in spec && spec.default !== undefined ? ` (default ${spec.default})` : "";
    const required = "required" in spec && spec.required ? " (required)" : "";
    const items = spec.kind === "list" && spec.choices ? ` (any of ${spec.choices.join(", ")})` : "";
    rows.push([`--${name}${value}`, `${spec.help}${items}${required}${shown}`]);
  }
  rows.push(["-h, --help", "this text"]);
  const width = Math.max(...rows.map(([flag]) => flag.length)) + 2;
  const lines = [`Usage: ${usage.command ?? `npx tsx ${script} [flags]`}`, ""];
  if (usage.about !== undefined) lines.push(usage.about.trimEnd(), "");
  for (const [flag, help] of rows) lines.push(`  ${flag.padEnd(width)} ${help}`);
  if (usage.more !== undefined) lines.push("", usage.more.trimEnd());
  return `${lines.join("\n")}\n`;
}

function defaultValueName(spec: FlagSpec): string {
  if (spec.kind === "count" || spec.kind === "number") return "N";
  if (spec.kind === "list") return "A,B";
  return spec.kind === "string" && spec.choices !== undefined ? spec.choices.join("|") : "VALUE";
}

/**
 * The flags of the bench script at `scriptUrl` (its import.meta.url) from process.argv: --help
 * (or -h) prints the usage and exits 0; a FlagError is said on stderr with a pointer to --help,
 * exit 2, before the script starts anything.
 */
export function benchFlags<const S extends FlagSpecs>(
  scriptUrl: string,
  specs: S,
  usage: Usage = {},
  args: readonly string[] = process.argv.slice(2),
): FlagValues<S> {
  const script = `bench/${basename(fileURLToPath(scriptUrl))}`;
  if (args.includes("--help") || args.includes("-h")) {
    process.stdout.write(flagsUsage(script, specs, usage));
    process.exit(0);
  }
  try {
    return parseFlags(specs, args);
  } catch (err) {
    if (!(err instanceof FlagError)) throw err;
    process.stderr.write(`${script}: ${err.message} (see --help)\n`);
    process.exit(2);
  }
}
