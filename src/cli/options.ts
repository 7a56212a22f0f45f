import { readFileSync } from "node:fs";
import { duplicateKeyMessage, duplicateKeyPath } from "../core/json-duplicate-key.js";
import { DOT_SEGMENT_ID, idLengthProblem, isDotSegmentId } from "../core/state/task-id.js";
import { taskTypeProblem } from "../core/state/task-type.js";
import { redactUrl } from "../core/store/config.js";
import { agentIdProblem } from "./agent-id.js";

/**
 * Flags, then the environment (TRIAD_<FLAG>), then an optional JSON config file
 * (--config FILE or TRIAD_CONFIG), then the default. Secrets never come from here: they are
 * read from the environment only, by the command that needs them.
 */
export type FlagSpec = {
  name: string;
  type: "string" | "number" | "boolean";
  description: string;
  default?: string | number | boolean;
  required?: boolean;
  /** Environment variable; default TRIAD_<NAME> with dashes as underscores. */
  env?: string | false;
  /** A string flag that may be given more than once: its values, joined by spaces (so no value may hold one). */
  repeatable?: boolean;
  /** A number flag: whole numbers only. */
  integer?: boolean;
  /** A number flag: the smallest value taken. */
  min?: number;
  /** A number flag: the largest value taken. */
  max?: number;
  /**
   * A string flag naming an agent by URL: http:// or https:// only ("list": several,
   * comma-separated; "each": one a value of a repeatable flag, its env variable space-separated).
   * Another scheme (ftp://, a host:port without one) is a usage error, not a process that waits
   * forever for a peer it cannot reach.
   */
  url?: "one" | "list" | "each";
  /** A string flag naming an agent: a safe id (./agent-id.ts), else a usage error. */
  agentId?: boolean;
};

export type CommandSpec = {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
  /** Free text after the flags in --help (environment variables, examples). */
  notes?: string;
};

export type ParsedOptions = Record<string, string | number | boolean | undefined>;

/** Bad input on the command line, in the environment or a config file: exit code 2. */
export class UsageError extends Error {
  /** ERR_USAGE, or a code of its own for a kind of input a script may want to tell apart. */
  constructor(
    message: string,
    readonly code = "ERR_USAGE",
  ) {
    super(message);
  }
}

/** The levels --log-level takes (pino's), most verbose first. */
export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

export const COMMON_FLAGS: FlagSpec[] = [
  {
    name: "config",
    type: "string",
    description: "JSON file of options (keys as flag names)",
    env: "TRIAD_CONFIG",
  },
  {
    name: "log-level",
    type: "string",
    description: `${LOG_LEVELS.slice(0, -1).join(", ")} or ${LOG_LEVELS.at(-1)}`,
    default: "info",
  },
  {
    name: "log-format",
    type: "string",
    description: "auto (readable lines on a terminal, JSON lines when piped), pretty or json",
    default: "auto",
  },
  { name: "help", type: "boolean", description: "show this help", env: false },
];

const envName = (flag: FlagSpec) =>
  flag.env === false ? undefined : (flag.env ?? `TRIAD_${flag.name.toUpperCase().replace(/-/g, "_")}`);

/** The command's flags, then the common ones it does not define itself. */
function allFlags(spec: CommandSpec): FlagSpec[] {
  const own = new Set(spec.flags.map((f) => f.name));
  return [...spec.flags, ...COMMON_FLAGS.filter((f) => !own.has(f.name))];
}

export function helpText(spec: CommandSpec): string {
  const flags = allFlags(spec);
  const width = Math.max(...flags.map((f) => f.name.length)) + 4;
  const lines = flags.map((f) => {
    const env = envName(f);
    const extra = [
      f.required ? "required" : undefined,
      f.default !== undefined ? `default ${f.default}` : undefined,
      env ? `env ${env}` : undefined,
    ]
      .filter(Boolean)
      .join("; ");
    return `  --${f.name.padEnd(width)}${f.description}${extra ? ` (${extra})` : ""}`;
  });
  return `${spec.summary}\n\nusage: ${spec.usage}\n\noptions:\n${lines.join("\n")}\n${spec.notes ? `\n${spec.notes}\n` : ""}`;
}

/**
 * `knownKeys`: the option names a config file may hold (default: this command's). A file shared
 * by several commands holds keys of the others: those are passed over, a key no command takes
 * (a typo) is refused.
 */
export function parseOptions(
  spec: CommandSpec,
  argv: string[],
  env: NodeJS.ProcessEnv = process.env,
  knownKeys?: ReadonlySet<string>,
): ParsedOptions {
  const flags = [...spec.flags, ...COMMON_FLAGS];
  const byName = new Map(flags.map((f) => [f.name, f]));
  const given: ParsedOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h") {
      given.help = true;
      continue;
    }
    if (!arg.startsWith("--")) throw new UsageError(`unexpected argument "${arg}"`);
    const [rawName, inline] = arg.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    const flag =
      byName.get(rawName) ?? (rawName.startsWith("no-") ? byName.get(rawName.slice(3)) : undefined);
    if (flag === undefined) throw new UsageError(`unknown option --${rawName}`);
    // Which of two values counts would be the parser's choice, not the user's (as a config
    // file's key given twice: ERR_DUPLICATE_KEY); a repeatable flag keeps them all.
    if (given[flag.name] !== undefined && !flag.repeatable && flag.name !== "help")
      throw new UsageError(
        `--${flag.name} is given more than once; it takes one value (give it once)`,
        "ERR_REPEATED_FLAG",
      );
    if (flag.type === "boolean") {
      if (inline !== undefined) throw new UsageError(`--${flag.name} takes no value`);
      given[flag.name] = !rawName.startsWith("no-");
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`--${flag.name} needs a value`);
    const converted = convert(flag, value, `--${flag.name}`);
    given[flag.name] =
      flag.repeatable && given[flag.name] !== undefined ? `${given[flag.name]} ${converted}` : converted;
  }
  if (given.help) return given;

  const configPath = (given.config as string | undefined) ?? env.TRIAD_CONFIG;
  const file = configPath ? readConfig(configPath) : {};
  for (const key of Object.keys(file)) {
    if (!byName.has(key) && !knownKeys?.has(key))
      throw new UsageError(`config file ${configPath}: unknown option "${key}"`);
  }
  const out: ParsedOptions = {};
  for (const flag of flags) {
    const fromEnv = envName(flag) ? env[envName(flag)!] : undefined;
    let value = given[flag.name];
    if (value === undefined && fromEnv !== undefined && fromEnv !== "")
      value = convert(flag, fromEnv, envName(flag)!);
    if (value === undefined && file[flag.name] !== undefined)
      value = fromConfig(flag, file[flag.name], `${configPath}: ${flag.name}`);
    if (value === undefined) value = flag.default;
    if (value === undefined && flag.required) throw new UsageError(`missing required option --${flag.name}`);
    out[flag.name] = value;
  }
  return out;
}

/**
 * A config file's value: a string, number or boolean as on the command line; for a repeatable
 * option an array of them (each as if given once more); for a string option an object or array
 * stands for its JSON text (--payload, say).
 */
function fromConfig(flag: FlagSpec, value: unknown, where: string): string | number | boolean {
  if (Array.isArray(value) && flag.repeatable) {
    if (value.length === 0) throw new UsageError(`${where} is an empty list`);
    return value
      .map((item, i) => {
        if (typeof item !== "string" && typeof item !== "number")
          throw new UsageError(`${where}[${i}] must be a string (got ${JSON.stringify(item)})`);
        const text = String(item);
        if (text === "" || /\s/.test(text))
          throw new UsageError(
            `${where}[${i}] must be one value without spaces (got ${JSON.stringify(text)})`,
          );
        return convert(flag, text, `${where}[${i}]`);
      })
      .join(" ");
  }
  if (value !== null && typeof value === "object") {
    if (flag.type === "string") return JSON.stringify(value);
    throw new UsageError(
      `${where} must be ${flag.type === "number" ? "a number" : "true or false"} (got ${JSON.stringify(value)})`,
    );
  }
  if (value === null)
    throw new UsageError(
      `${where} must be ${flag.type === "string" ? "a string" : `a ${flag.type}`} (got null)`,
    );
  // A JSON number is a number already (1e-7 is one, though its text is no decimal).
  if (flag.type === "number" && typeof value === "number") return inRange(flag, value, String(value), where);
  return convert(flag, String(value), where);
}

/**
 * A number as a person writes it in decimal: digits, a sign, a fraction. Number() takes more —
 * hex (0x10), binary, octal, exponents (1e3), white space around (" 5 ") — each a typo more
 * likely than a wish, and none a form this help documents.
 */
const DECIMAL = /^[+-]?(\d+(\.\d+)?|\.\d+)$/;

function convert(flag: FlagSpec, raw: string, where: string): string | number | boolean {
  if (flag.type === "string") {
    if (flag.url !== undefined) checkUrls(flag, raw, where);
    const problem = flag.agentId ? agentIdProblem(raw) : undefined;
    if (problem !== undefined)
      throw new UsageError(
        `${where} ${JSON.stringify(raw)} is not an agent id: ${problem}`,
        "ERR_BAD_AGENT_ID",
      );
    return raw;
  }
  if (flag.type === "boolean") {
    if (/^(1|true|yes|on)$/i.test(raw)) return true;
    if (/^(0|false|no|off)$/i.test(raw)) return false;
    throw new UsageError(`${where} must be true or false (got "${raw}")`);
  }
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n))
    throw new UsageError(`${where} must be a number (got "${raw}")`);
  if (!DECIMAL.test(raw))
    throw new UsageError(
      `${where} must be written in decimal digits, as ${rangeText(flag)} (got ${JSON.stringify(raw)})`,
    );
  return inRange(flag, n, raw, where);
}

function inRange(flag: FlagSpec, n: number, raw: string, where: string): number {
  const outOfRange = (flag.min !== undefined && n < flag.min) || (flag.max !== undefined && n > flag.max);
  if ((flag.integer && !Number.isInteger(n)) || outOfRange)
    throw new UsageError(`${where} must be ${rangeText(flag)} (got ${raw})`);
  return n;
}

function checkUrls(flag: FlagSpec, raw: string, where: string): void {
  const items =
    flag.url === "list"
      ? raw.split(",").map((u) => u.trim())
      : flag.url === "each"
        ? raw.trim().split(/\s+/)
        : [raw.trim()];
  for (const item of items.filter((u, i) => u !== "" || i === 0)) {
    let url: URL | undefined;
    try {
      url = new URL(item);
    } catch {
      url = undefined;
    }
    // Echoed without its password: the error goes to a terminal, a CI log.
    const shown = JSON.stringify(redactUrl(item));
    if (url?.protocol !== "http:" && url?.protocol !== "https:")
      throw new UsageError(
        `${where} must be ${flag.url === "one" ? "an http:// or https:// URL" : "http:// or https:// URLs"} (got ${shown})`,
      );
    // fetch refuses such a URL at every request: refused here, once, saying where a token goes.
    if (url.username !== "" || url.password !== "")
      throw new UsageError(
        `${where} must not hold a user name or password (got ${shown}): a bearer token comes from the environment (TRIAD_API_TOKEN; TRIAD_A2A_AGENT_TOKEN for --a2a-agent)`,
        "ERR_URL_CREDENTIALS",
      );
  }
}

/** What a number flag takes, for its usage error: "an integer from 0 to 65535", "a number >= 0". */
function rangeText(flag: FlagSpec): string {
  const what = flag.integer ? "an integer" : "a number";
  if (flag.min !== undefined && flag.max !== undefined) return `${what} from ${flag.min} to ${flag.max}`;
  if (flag.min !== undefined) return `${what} >= ${flag.min}`;
  if (flag.max !== undefined) return `${what} <= ${flag.max}`;
  return what;
}

/** A port flag: 0 to 65535, 0 meaning any free port. */
export const PORT_RANGE = { integer: true, min: 0, max: 65_535 } as const;

function readConfig(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new UsageError(`cannot read config file ${path}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text) as unknown;
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
      throw new Error("not a JSON object");
  } catch (err) {
    throw new UsageError(`config file ${path} is not a JSON object of options: ${(err as Error).message}`);
  }
  // Which of two values of one option counts is the parser's choice, not the user's (see json-text.ts).
  const duplicate = duplicateKeyPath(text);
  if (duplicate !== null)
    throw new UsageError(duplicateKeyMessage(duplicate, `config file ${path}`), "ERR_DUPLICATE_KEY");
  return parsed as Record<string, unknown>;
}

export function positiveInt(options: ParsedOptions, name: string): number {
  const v = options[name];
  if (typeof v !== "number" || !Number.isInteger(v) || v <= 0)
    throw new UsageError(`--${name} must be a positive integer (got ${v})`);
  return v;
}

/**
 * A task type given by a flag (--type, --a2a-text-type): refused here, before anything is sent
 * or started, by the rules every entry keeps (taskTypeProblem), naming the flag. Unset: undefined.
 */
/**
 * A task id flag naming a task to read or change (--task): one no task can have — empty, "."
 * or ".." (every URL parser drops those segments from /tasks/<id>), longer than a task id — is a usage error, not a
 * request: `/tasks/../cancel` went out as POST /cancel, and `status --task ..` printed the page
 * of GET / as the task.
 */
export function taskIdOption(options: ParsedOptions, name: string): string {
  const id = String(options[name]);
  if (id === "") throw new UsageError(`--${name} must name a task (got an empty id)`, "ERR_INVALID_TASK_ID");
  const tooLong = idLengthProblem(id.length);
  if (tooLong !== null) throw new UsageError(`--${name} ${tooLong}`, "ERR_INVALID_TASK_ID");
  if (isDotSegmentId(id))
    throw new UsageError(
      `--${name} ${JSON.stringify(id)}: a task id ${DOT_SEGMENT_ID}`,
      "ERR_INVALID_TASK_ID",
    );
  return id;
}

export function taskTypeOption(options: ParsedOptions, name: string): string | undefined {
  const v = options[name];
  if (v === undefined) return undefined;
  const type = String(v);
  const why = taskTypeProblem(type);
  if (why !== null)
    throw new UsageError(`--${name} ${JSON.stringify(type)}: a task type ${why}`, "ERR_INVALID_TASK");
  return type;
}
