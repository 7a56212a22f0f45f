import { TriadError } from "./errors.js";

/**
 * The type an option takes, checked where the options come in: a wrong one (`handlers: 5`,
 * `redis: "memory://"`) was otherwise taken as not given, or crashed far from where it entered.
 * `true`: any type (the option's own check looks at it).
 */
export type OptionKind =
  | true
  | "string"
  | "number"
  | "boolean"
  | "function"
  | "object"
  | "array"
  /** An object, or null where null means "none" (a2a.router). */
  | "object|null";

/** A value as a message shows it: `5`, `"abc"`, `null`, `an array`, `a function`. */
export function shownValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === "object") return "an object";
  if (typeof value === "bigint") return `${value}n`;
  return String(value);
}

const EXPECTED: Record<Exclude<OptionKind, true>, string> = {
  string: "a string",
  number: "a number",
  boolean: "true or false",
  function: "a function",
  object: "an object",
  array: "an array",
  "object|null": "an object (or null for none)",
};

/** Whether `value` (given, not undefined) is of `kind`. */
function isOfKind(kind: Exclude<OptionKind, true>, value: unknown): boolean {
  switch (kind) {
    case "array":
      return Array.isArray(value);
    case "object":
      return typeof value === "object" && value !== null && !Array.isArray(value);
    case "object|null":
      return value === null || (typeof value === "object" && !Array.isArray(value));
    default:
      return typeof value === kind;
  }
}

/**
 * Throws ERR_INVALID_CONFIG when `value` is given (not undefined) and not of `kind`, naming the
 * option's path (`what: option a2a.peers`), the type it takes and what it got.
 */
export function checkKind(what: string, path: string, kind: OptionKind, value: unknown): void {
  if (kind === true || value === undefined || isOfKind(kind, value)) return;
  throw new TriadError(
    "ERR_INVALID_CONFIG",
    `${what}: option ${path} must be ${EXPECTED[kind]} (got ${shownValue(value)})`,
    {
      option: path,
      expected: kind,
      got: value === null ? "null" : Array.isArray(value) ? "array" : typeof value,
    },
  );
}

/** Throws ERR_INVALID_CONFIG unless the options argument of `what` is an object (undefined: use `fallback`). */
export function optionsObject<T extends object>(what: string, options: T | undefined, fallback?: T): T {
  if (options === undefined && fallback !== undefined) return fallback;
  if (typeof options !== "object" || options === null || Array.isArray(options))
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${what}: the options must be an object (got ${shownValue(options)})`,
      {
        option: "",
        expected: "object",
        got: options === null ? "null" : Array.isArray(options) ? "array" : typeof options,
      },
    );
  return options;
}
