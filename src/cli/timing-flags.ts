import { DEFAULT_TIMING, resolveTiming, type Timing } from "../agents/timing.js";
import { TriadError } from "../core/errors.js";
import type { FlagSpec, ParsedOptions } from "./options.js";

/**
 * Failure-detection timing as flags, for the tiers that use it. The defaults are the agents'
 * own (heartbeat 1 s, dead after 3 s of silence, monitor every 500 ms, lease 3 s, a dead agent
 * listed as dead for 10 min before it is forgotten); tests and chaos runs shorten them.
 */
const TIMING = {
  "heartbeat-interval": { field: "heartbeatIntervalMs", description: "ms between heartbeats" },
  "heartbeat-timeout": {
    field: "heartbeatTimeoutMs",
    description: "ms of silence after which a peer is declared dead",
  },
  "monitor-interval": { field: "monitorIntervalMs", description: "ms between checks for dead peers" },
  "lease-ttl": { field: "leaseTtlMs", description: "ms a shared-state lease lives unrenewed" },
  "dead-retention": {
    field: "deadRetentionMs",
    description: "ms a dead agent stays listed as dead before it is forgotten",
  },
} as const satisfies Record<string, { field: keyof Timing; description: string }>;

export type TimingFlag = keyof typeof TIMING;

export function timingFlags(...names: TimingFlag[]): FlagSpec[] {
  return names.map((name) => ({
    name,
    type: "number",
    description: TIMING[name].description,
    default: DEFAULT_TIMING[TIMING[name].field],
  }));
}

/**
 * The timing flags of a command, as the agents' `timing` option, checked: ERR_INVALID_CONFIG
 * (a heartbeat interval not shorter than the timeout, say) at once, before the command waits
 * for its peer — not once that peer has come up.
 */
export function timingFrom(options: ParsedOptions): Partial<Timing> {
  const timing: Partial<Timing> = {};
  for (const [name, { field }] of Object.entries(TIMING)) {
    const value = options[name];
    if (typeof value === "number") timing[field] = value;
  }
  try {
    resolveTiming(timing);
  } catch (err) {
    throw asFlags(err);
  }
  return timing;
}

/** The agents' refusal, naming the flags a user gives (`--heartbeat-timeout`), not `timing.heartbeatTimeoutMs`. */
function asFlags(err: unknown): unknown {
  if (!(err instanceof TriadError)) return err;
  let message = err.message;
  for (const [name, { field }] of Object.entries(TIMING))
    message = message.replaceAll(`timing.${field}`, `--${name}`);
  return new TriadError(err.code, message, err.details);
}
