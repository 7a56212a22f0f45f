import { readFileSync } from "node:fs";
import { DEFAULT_BUSY_POLL_US, type RedisConfig } from "../core/store/config.js";
import { checkRedisTls, type RedisTlsOptions } from "../core/store/redis-tls.js";
import { type FlagSpec, type ParsedOptions, UsageError } from "./options.js";

/** How long the process keeps polling for a Redis reply instead of sleeping (RedisConfig.busyPollUs). */
export const busyPollFlag: FlagSpec = {
  name: "busy-poll",
  type: "number",
  description:
    "µs to keep polling for a Redis reply instead of sleeping: lower latency per round trip, for CPU (0: off)",
  default: DEFAULT_BUSY_POLL_US,
};

/** The TLS files of a rediss:// store (env TRIAD_REDIS_CA, TRIAD_REDIS_CERT, TRIAD_REDIS_KEY): every command that takes --redis takes these. */
export const redisTlsFlags: FlagSpec[] = [
  {
    name: "redis-ca",
    type: "string",
    description:
      "PEM file of the CA that signed the Redis server's certificate (rediss://, e.g. a managed Redis)",
  },
  {
    name: "redis-cert",
    type: "string",
    description:
      "PEM file of this client's certificate, for a Redis that wants mutual TLS (with --redis-key)",
  },
  { name: "redis-key", type: "string", description: "PEM file of the private key of --redis-cert" },
];

const TLS_FLAGS = { ca: "redis-ca", cert: "redis-cert", key: "redis-key" } as const;

/** The store config of a command: its URL (and whatever else is given), the busy-poll budget and TLS files. */
export function storeConfig(options: ParsedOptions, config: RedisConfig): RedisConfig {
  const tls = tlsFiles(options);
  return {
    ...config,
    ...(options["busy-poll"] !== undefined ? { busyPollUs: Number(options["busy-poll"]) } : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/** The PEM text of --redis-ca / --redis-cert / --redis-key, checked and named by their flags; undefined when none is given. */
function tlsFiles(options: ParsedOptions): RedisTlsOptions | undefined {
  const tls: RedisTlsOptions = {};
  for (const [field, flag] of Object.entries(TLS_FLAGS) as [keyof RedisTlsOptions, string][]) {
    const path = options[flag];
    if (path === undefined || path === "") continue;
    try {
      tls[field] = readFileSync(String(path));
    } catch (err) {
      throw new UsageError(
        `cannot read --${flag} ${String(path)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
  }
  if (Object.keys(tls).length === 0) return undefined;
  return checkRedisTls(tls, {
    ca: `--redis-ca ${String(options["redis-ca"])}`,
    cert: `--redis-cert ${String(options["redis-cert"])}`,
    key: `--redis-key ${String(options["redis-key"])}`,
  });
}
