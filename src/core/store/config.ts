import { TriadError } from "../errors.js";
import { checkKnownKeys, type KeysOf } from "../known-keys.js";
import { checkRedisTls, type RedisTlsOptions } from "./redis-tls.js";

export type RedisConfig = {
  /**
   * "redis://[user:pass@]host:port/db", "rediss://..." for TLS, "memory://[name]" for the
   * embedded engine, or "redis+cluster://[user:pass@]host:port,host:port,..." for Redis Cluster
   * ("rediss+cluster://" with TLS): the nodes it is discovered from (one is enough; list a few).
   */
  url?: string;
  /** Without url (and cluster): the server's host, default "localhost". Refused beside url. */
  host?: string;
  /** Without url (and cluster): the server's port, default 6379. Refused beside url. */
  port?: number;
  password?: string;
  useTls?: boolean;
  /**
   * CA certificate, and client certificate and key for mutual TLS (PEM), for rediss:// (see
   * RedisTlsOptions). Giving it turns TLS on where the URL does not say (host/port config).
   */
  tls?: RedisTlsOptions;
  db?: number;
  /** Namespace for every key and channel this client touches. */
  keyPrefix?: string;
  /** Milliseconds that connect() waits for a server before resolving false. Default 3000. */
  connectTimeoutMs?: number;
  /** Redis Cluster, as an alternative to a redis+cluster:// url: the nodes' redis:// URLs. Refused beside url. */
  cluster?: { rootNodes: string[] };
  /**
   * memory:// only: finished tasks whose records it keeps at most (default 100,000). Past that
   * the oldest finished record goes at once, as its retention would end it later: the embedded
   * store holds everything in this process's memory, and a steady stream of tasks must leave it
   * flat. Tasks other tasks depend on, or that spawned tasks, keep their record for the retention.
   * On Redis, records live for their retention and Redis's maxmemory bounds them.
   */
  memoryMaxFinished?: number;
  /**
   * While a reply is awaited, keep the event loop polling for it (instead of sleeping) for up
   * to this many microseconds since the last request or reply: a round trip to a Redis on the
   * same host costs a third less that way on a virtual machine, for some CPU. 0 turns it off.
   * Default 250. Polling pauses by itself when replies keep taking longer (a distant Redis).
   */
  busyPollUs?: number;
  /**
   * Replicas that must hold a submitted task before the submit is answered (Redis WAIT after
   * each batch of submits, on a connection of its own): a master that fails right after
   * answering cannot take an accepted task with it. 0 (the default) answers once the master
   * has it, as Redis replication is asynchronous. Not for memory:// (it has no replicas).
   */
  waitReplicas?: number;
  /**
   * Milliseconds a submit waits for `waitReplicas` acknowledgements (1..4000, default 2000).
   * Fewer in time: the submit is refused with ERR_NOT_REPLICATED (HTTP 503, Retry-After); the
   * master holds the task. The same id sent again waits for the replicas again: refused the
   * same way while they still have not acknowledged it, answered as recorded once they have.
   */
  waitReplicasTimeoutMs?: number;
};

/** The RedisConfig keys: one not listed (`urll`) is refused, not ignored. */
export const REDIS_KEYS: KeysOf<RedisConfig> = {
  url: "string",
  host: "string",
  port: "number",
  password: "string",
  useTls: "boolean",
  tls: "object",
  db: "number",
  keyPrefix: "string",
  connectTimeoutMs: "number",
  cluster: "object",
  memoryMaxFinished: "number",
  busyPollUs: "number",
  waitReplicas: "number",
  waitReplicasTimeoutMs: "number",
};
const TLS_KEYS: KeysOf<RedisTlsOptions> = { ca: true, cert: true, key: true };
const CLUSTER_KEYS: KeysOf<NonNullable<RedisConfig["cluster"]>> = { rootNodes: "array" };

/** RedisConfig.waitReplicasTimeoutMs when it is not given. */
export const DEFAULT_WAIT_REPLICAS_TIMEOUT_MS = 2000;
/** Replication acknowledgements a submit may ask for, and how long it may wait for them. */
export type ReplicaWait = { replicas: number; timeoutMs: number };

/** RedisConfig.busyPollUs when it is not given. */
export const DEFAULT_BUSY_POLL_US = 250;

export type ResolvedStoreTarget =
  | { kind: "memory"; name: string; maxFinished?: number }
  | {
      kind: "redis";
      url: string;
      password?: string;
      useTls: boolean;
      tls?: RedisTlsOptions;
      db?: number;
      connectTimeoutMs: number;
      busyPollUs: number;
      replicaWait: ReplicaWait | null;
    }
  | {
      kind: "cluster";
      /** redis:// (or rediss://) URLs of the nodes to discover the cluster from. */
      rootNodes: string[];
      username?: string;
      password?: string;
      useTls: boolean;
      tls?: RedisTlsOptions;
      connectTimeoutMs: number;
      busyPollUs: number;
      replicaWait: ReplicaWait | null;
    };

const MEMORY_SCHEME = "memory://";
const CLUSTER_SCHEME = /^(rediss?)\+cluster:\/\/(.*)$/;

/** Where a config was given, for its messages: `what` names the call, `prefix` goes before each key. */
export type StoreConfigSource = { what: string; prefix: string };
const REDIS_OPTION: StoreConfigSource = { what: "redis", prefix: "redis." };

/**
 * Turns the user's config into one engine target, refusing what cannot work. `where`: how its
 * keys are named in messages (`redis.port`; StoreCheckpointSaver.fromUrl's are flat: `port`).
 */
export function resolveStoreTarget(
  config: RedisConfig,
  where: StoreConfigSource = REDIS_OPTION,
): ResolvedStoreTarget {
  const p = where.prefix;
  // A misspelt key (`urll`) was ignored, and the store taken from the defaults (localhost:6379).
  checkKnownKeys(where.what, config, REDIS_KEYS, p);
  checkKnownKeys(where.what, config.tls, TLS_KEYS, `${p}tls.`);
  checkKnownKeys(where.what, config.cluster, CLUSTER_KEYS, `${p}cluster.`);
  if (config.url !== undefined && typeof config.url !== "string") {
    throw new TriadError("ERR_INVALID_CONFIG", `${p}url must be a string`);
  }
  checkOneAddress(config, p);
  checkKeyPrefix(config.keyPrefix, p);
  const connectTimeoutMs = config.connectTimeoutMs ?? 3000;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new TriadError("ERR_INVALID_CONFIG", `${p}connectTimeoutMs must be a positive number`);
  }
  const busyPollUs = config.busyPollUs ?? DEFAULT_BUSY_POLL_US;
  if (typeof busyPollUs !== "number" || !Number.isFinite(busyPollUs) || busyPollUs < 0) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${p}busyPollUs must be a non-negative number of microseconds (got ${String(config.busyPollUs)})`,
    );
  }
  const replicaWait = resolveReplicaWait(config, p);
  if (config.memoryMaxFinished !== undefined && !config.url?.startsWith(MEMORY_SCHEME)) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${p}memoryMaxFinished is for memory:// (a Redis keeps records for their retention; bound it with maxmemory)`,
    );
  }
  if (config.cluster !== undefined || (config.url !== undefined && CLUSTER_SCHEME.test(config.url))) {
    return resolveCluster(config, connectTimeoutMs, busyPollUs, replicaWait, p);
  }
  if (config.url?.startsWith(MEMORY_SCHEME)) {
    if (replicaWait !== null) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${p}waitReplicas is for a Redis with replicas: memory:// has none (leave it unset or 0)`,
      );
    }
    const name = config.url.slice(MEMORY_SCHEME.length) || "default";
    const maxFinished = config.memoryMaxFinished;
    if (maxFinished === undefined) return { kind: "memory", name };
    if (!Number.isSafeInteger(maxFinished) || maxFinished < 1) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${p}memoryMaxFinished must be a positive integer (got ${String(maxFinished)})`,
      );
    }
    return { kind: "memory", name, maxFinished };
  }
  if (config.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(config.url);
    } catch {
      throw new TriadError("ERR_INVALID_CONFIG", `${p}url is not a URL: ${redactUrl(config.url)}`);
    }
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${p}url must start with redis://, rediss://, redis+cluster:// or memory:// (got ${parsed.protocol}//)`,
      );
    }
    const useTls = parsed.protocol === "rediss:" || config.useTls === true;
    return {
      kind: "redis",
      url: config.url,
      useTls,
      ...tlsOf(config, useTls, p),
      connectTimeoutMs,
      busyPollUs,
      replicaWait,
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.db !== undefined ? { db: config.db } : {}),
    };
  }
  const host = config.host ?? "localhost";
  const port = config.port ?? 6379;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TriadError("ERR_INVALID_CONFIG", `${p}port must be an integer in 1..65535 (got ${port})`);
  }
  const useTls = config.useTls === true || config.tls !== undefined;
  return {
    kind: "redis",
    url: `${useTls ? "rediss" : "redis"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    useTls,
    ...tlsOf(config, useTls, p),
    connectTimeoutMs,
    busyPollUs,
    replicaWait,
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.db !== undefined ? { db: config.db } : {}),
  };
}

/**
 * A url already says where the store is: host and port beside it were ignored, and the client
 * went to the url's server instead of the one the caller also named. Refused, naming both. So
 * is a url beside `cluster` (the cluster's nodes were taken and the url silently ignored).
 */
function checkOneAddress(config: RedisConfig, p: string): void {
  if (config.url !== undefined && config.cluster !== undefined) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${p}url and ${p}cluster are both given: each says where the store is; give one or the other`,
      { option: `${p}url`, conflicts: [`${p}cluster`] },
    );
  }
  const beside = (["host", "port"] as const).filter((key) => config[key] !== undefined);
  const by = config.url !== undefined ? "url" : config.cluster !== undefined ? "cluster" : undefined;
  if (by === undefined || beside.length === 0) return;
  const named = beside.map((key) => `${p}${key}`).join(" and ");
  throw new TriadError(
    "ERR_INVALID_CONFIG",
    `${p}${by} and ${named} are both given: the ${by} already says where the store is; give one or the other`,
    { option: `${p}${by}`, conflicts: beside.map((key) => `${p}${key}`) },
  );
}

/** `{` or `}` in the prefix would break Redis Cluster hash tags (every multi-key script's slot). */
function checkKeyPrefix(keyPrefix: string | undefined, p: string): void {
  if (keyPrefix === undefined || !/[{}]/.test(keyPrefix)) return;
  throw new TriadError(
    "ERR_INVALID_CONFIG",
    `${p}keyPrefix must not contain { or } (they would break Redis Cluster hash tags): "${keyPrefix}"`,
    { option: `${p}keyPrefix` },
  );
}

/** A cluster from `cluster.rootNodes` or a "redis+cluster://a:1,b:2" url. */
function resolveCluster(
  config: RedisConfig,
  connectTimeoutMs: number,
  busyPollUs: number,
  replicaWait: ReplicaWait | null,
  p: string,
): ResolvedStoreTarget {
  if (config.db !== undefined && config.db !== 0) {
    throw new TriadError("ERR_INVALID_CONFIG", `Redis Cluster has only database 0: leave ${p}db unset`);
  }
  let rootNodes: string[];
  let username: string | undefined;
  let password = config.password;
  let useTls = config.useTls === true;
  if (config.cluster !== undefined) {
    const nodes = config.cluster.rootNodes;
    if (!Array.isArray(nodes) || nodes.length === 0 || nodes.some((n) => typeof n !== "string")) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${p}cluster.rootNodes must be a non-empty array of redis:// URLs`,
      );
    }
    for (const node of nodes) {
      let parsed: URL;
      try {
        parsed = new URL(node);
      } catch {
        throw new TriadError("ERR_INVALID_CONFIG", `${p}cluster.rootNodes has a bad URL: ${redactUrl(node)}`);
      }
      if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
        throw new TriadError(
          "ERR_INVALID_CONFIG",
          `${p}cluster.rootNodes takes redis:// URLs (got ${redactUrl(node)})`,
        );
      }
      if (parsed.protocol === "rediss:") useTls = true;
    }
    rootNodes = nodes;
  } else {
    const [, scheme, rest] = CLUSTER_SCHEME.exec(config.url!)!;
    if (scheme === "rediss") useTls = true;
    let hosts = rest!.replace(/\/.*$/, "");
    const at = hosts.lastIndexOf("@");
    if (at >= 0) {
      const auth = hosts.slice(0, at);
      hosts = hosts.slice(at + 1);
      const colon = auth.indexOf(":");
      const user = decodeURIComponent(colon >= 0 ? auth.slice(0, colon) : auth);
      if (user) username = user;
      if (colon >= 0) password ??= decodeURIComponent(auth.slice(colon + 1));
    }
    const list = hosts.split(",").filter((h) => h.length > 0);
    if (list.length === 0 || list.some((h) => !/^(\[[^\]]+\]|[^:[\]]+):\d{1,5}$/.test(h))) {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `${p}url must list the cluster's nodes as host:port,host:port (got ${redactUrl(config.url!)})`,
      );
    }
    rootNodes = list.map((h) => `${useTls ? "rediss" : "redis"}://${h}`);
  }
  return {
    kind: "cluster",
    rootNodes,
    useTls,
    ...tlsOf(config, useTls, p),
    connectTimeoutMs,
    busyPollUs,
    replicaWait,
    ...(username !== undefined ? { username } : {}),
    ...(password !== undefined ? { password } : {}),
  };
}

/** waitReplicas and its timeout, checked; null when submits need no replica. */
function resolveReplicaWait(config: RedisConfig, p: string): ReplicaWait | null {
  const replicas = config.waitReplicas ?? 0;
  if (typeof replicas !== "number" || !Number.isInteger(replicas) || replicas < 0 || replicas > 64) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${p}waitReplicas must be an integer in 0..64 (got ${String(config.waitReplicas)})`,
    );
  }
  const timeoutMs = config.waitReplicasTimeoutMs ?? DEFAULT_WAIT_REPLICAS_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 4000) {
    // WAIT holds its connection: past the 5 s command deadline it would read as a store outage.
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `${p}waitReplicasTimeoutMs must be an integer number of milliseconds in 1..4000 (got ${String(config.waitReplicasTimeoutMs)})`,
    );
  }
  return replicas === 0 ? null : { replicas, timeoutMs };
}

/** The checked TLS material, refused on a connection that is not TLS (it would be silently unused). */
function tlsOf(config: RedisConfig, useTls: boolean, p: string): { tls?: RedisTlsOptions } {
  if (config.tls === undefined) return {};
  if (!useTls) {
    throw new TriadError(
      "ERR_INVALID_CONFIG",
      `a CA or client certificate (${p}tls, --redis-ca, --redis-cert) is given for a plain redis:// URL: use rediss:// (or rediss+cluster://)`,
    );
  }
  return { tls: checkRedisTls(config.tls, { ca: `${p}tls.ca`, cert: `${p}tls.cert`, key: `${p}tls.key` }) };
}

/** A URL fit for a log line: the password, if any, replaced. */
export function redactUrl(url: string): string {
  return url.replace(
    /\/\/([^@/]*)@/,
    (_m, auth: string) => `//${auth.includes(":") ? `${auth.split(":")[0]}:***` : "***"}@`,
  );
}
