import { DEFAULT_BUSY_POLL_US, type RedisConfig } from "../core/store/config.js";
import type { FlagSpec, ParsedOptions } from "./options.js";

/** How long the process keeps polling for a Redis reply instead of sleeping (RedisConfig.busyPollUs). */
export const busyPollFlag: FlagSpec = {
  name: "busy-poll",
  type: "number",
  description:
    "µs to keep polling for a Redis reply instead of sleeping: lower latency per round trip, for CPU (0: off)",
  default: DEFAULT_BUSY_POLL_US,
};

/** The store config of a command: its URL (and whatever else is given) with the busy-poll budget. */
export function storeConfig(options: ParsedOptions, config: RedisConfig): RedisConfig {
  return { ...config, busyPollUs: Number(options["busy-poll"]) };
}
