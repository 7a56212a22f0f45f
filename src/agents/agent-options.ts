import { TriadError } from "../core/errors.js";
import { checkKnownKeys, type KeysOf } from "../core/known-keys.js";
import type { Logger } from "../core/logger.js";
import { A2A_CONFIG_KEYS } from "../core/messaging/config.js";
import { type OptionKind, optionsObject } from "../core/option-kinds.js";
import { MAX_TIMER_MS } from "../core/timers.js";
import type { AgentA2AConfig } from "./agent-base.js";
import { isNonEmptyString } from "./call-arguments.js";

/**
 * Checks of the options a program gives an agent's constructor, refused with ERR_INVALID_CONFIG
 * naming the option and what it got: a wrong one would otherwise be taken as it is (a worker of
 * concurrency 0 is sent nothing, and its tasks wait for ever).
 */

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** An agent id, or the id of the agent it reports to: a non-empty string. */
export function checkedId(option: string, value: unknown): string {
  if (!isNonEmptyString(value))
    throw new TriadError("ERR_INVALID_CONFIG", `${option} must be a non-empty string (got ${shown(value)})`);
  return value;
}

/** A count (concurrency, capacity): an integer from 1 up. */
export function checkedCount(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new TriadError("ERR_INVALID_CONFIG", `${option} must be an integer >= 1 (got ${shown(value)})`);
  return value;
}

/** A time in milliseconds a timer waits: a positive integer a timer can hold. */
export function checkedMs(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0 || value > MAX_TIMER_MS)
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${option} must be a positive integer of milliseconds up to ${MAX_TIMER_MS} (got ${shown(value)})`,
    );
  return value;
}

/** What TriadAgent's constructor takes, from an agent's options. */
export type AgentBaseOptions = { agentId: string; a2a?: AgentA2AConfig; logger?: Logger; tier: string };

/** An agent's A2A keys: the client's, and the address it advertises. */
const AGENT_A2A_KEYS: KeysOf<AgentA2AConfig> = { ...A2A_CONFIG_KEYS, advertiseUrl: "string" };
const LOGGER_METHODS = ["trace", "debug", "info", "warn", "error", "child"] as const;

/**
 * An agent's options checked before anything is built from them: an object, every key known and
 * of its type (`handlers: 5` was ignored, `logger: 5` crashed), the a2a keys too, a logger that
 * has a logger's methods. `name` is the class (`WorkerAgent`); `nested`, the keys of its
 * object options by their path (`limits`, `schedules.events`).
 */
export function agentBaseOptions(
  name: string,
  tier: string,
  options: { agentId: string; a2a?: AgentA2AConfig; logger?: Logger },
  known: Record<string, OptionKind>,
  nested: Record<string, Record<string, OptionKind>> = {},
): AgentBaseOptions {
  // None at all is left to the agent id's check ("agentId must be a non-empty string").
  if (options === undefined) return { agentId: undefined as never, tier };
  optionsObject(`new ${name}()`, options);
  const what = `${name} ${JSON.stringify(options.agentId)}`;
  checkKnownKeys(what, options, known);
  checkKnownKeys(what, options.a2a, AGENT_A2A_KEYS, "a2a.");
  // Paths in order, a parent before its children: a child is looked at once its parent is an object.
  for (const [path, keys] of Object.entries(nested)) {
    const value = path
      .split(".")
      .reduce<unknown>((o, k) => (o as Record<string, unknown> | undefined)?.[k], options);
    checkKnownKeys(what, value, keys, `${path}.`);
  }
  const logger = options.logger as Record<string, unknown> | undefined;
  const missing = LOGGER_METHODS.filter((m) => typeof logger?.[m] !== "function");
  if (logger !== undefined && missing.length > 0)
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${what}: option logger must be a logger with ${LOGGER_METHODS.join(", ")} functions (a pino logger); it has no ${missing.join(", ")}`,
      { option: "logger", expected: "Logger", got: `no ${missing.join(", ")}` },
    );
  return { agentId: options.agentId, a2a: options.a2a, logger: options.logger, tier };
}
