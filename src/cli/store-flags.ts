import { readFileSync } from "node:fs";
import {
  DEFAULT_BUSY_POLL_US,
  DEFAULT_WAIT_REPLICAS_TIMEOUT_MS,
  type RedisConfig,
} from "../core/store/config.js";
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

/**
 * Replicas that must hold a submitted task before it is answered (RedisConfig.waitReplicas): the
 * commands that accept tasks take these.
 */
export const replicaWaitFlags: FlagSpec[] = [
  {
    name: "redis-wait-replicas",
    type: "number",
    description:
      "answer a submit only once this many Redis replicas hold it (WAIT): no accepted task lost if the master fails (0: once the master has it)",
    default: 0,
  },
  {
    name: "redis-wait-timeout",
    type: "number",
    description:
      "ms a submit waits for --redis-wait-replicas; fewer in time: refused with ERR_NOT_REPLICATED (503)",
    default: DEFAULT_WAIT_REPLICAS_TIMEOUT_MS,
  },
];

const TLS_FLAGS = { ca: "redis-ca", cert: "redis-cert", key: "redis-key" } as const;

/** The store config of a command: its URL (and whatever else is given), the busy-poll budget and TLS files. */
export function storeConfig(options: ParsedOptions, config: RedisConfig): RedisConfig {
  const tls = tlsFiles(options);
  const replicas = Number(options["redis-wait-replicas"] ?? 0);
  if (replicas > 0 && config.url?.startsWith("memory://")) {
    throw new UsageError(
      `--redis-wait-replicas ${replicas} needs a Redis with replicas (--redis redis://... or redis+cluster://...): memory:// has none`,
    );
  }
  return {
    ...config,
    ...(options["busy-poll"] !== undefined ? { busyPollUs: Number(options["busy-poll"]) } : {}),
    ...(replicas > 0
      ? {
          waitReplicas: replicas,
          waitReplicasTimeoutMs: Number(options["redis-wait-timeout"] ?? DEFAULT_WAIT_REPLICAS_TIMEOUT_MS),
        }
      : {}),
    ...(tls !== undefined ? { tls } : {}),
  };
}

/**
 * The store of a tier run as its own process (coordinator, distributor): a Redis the cluster's
 * processes share. memory:// is one process's embedded store: the other processes would
 * never see its tasks, agents or keys (`triad up` runs a whole cluster on it in one process).
 */
export function sharedStoreConfig(options: ParsedOptions): RedisConfig {
  const url = String(options.redis);
  if (/^memory:/i.test(url.trim()))
    throw new UsageError(
      `--redis ${url} is the embedded store of this one process: the cluster's other processes would never see its tasks. Give a Redis they share (redis://host:port, rediss:// or redis+cluster://), or run a whole cluster in one process with \`triad up\``,
    );
  return storeConfig(options, { url });
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
