import { TriadError } from "../errors.js";

export type RedisConfig = {
  /** "redis://[user:pass@]host:port/db", "rediss://..." for TLS, or "memory://[name]" for the embedded engine. */
  url?: string;
  host?: string;
  port?: number;
  password?: string;
  useTls?: boolean;
  db?: number;
  /** Namespace for every key and channel this client touches. */
  keyPrefix?: string;
  /** Milliseconds that connect() waits for a server before resolving false. Default 3000. */
  connectTimeoutMs?: number;
};

export type ResolvedStoreTarget =
  | { kind: "memory"; name: string }
  | { kind: "redis"; url: string; password?: string; useTls: boolean; db?: number; connectTimeoutMs: number };

const MEMORY_SCHEME = "memory://";

/** Turns the user's config into one engine target, refusing what cannot work. */
export function resolveStoreTarget(config: RedisConfig): ResolvedStoreTarget {
  if (config.url !== undefined && typeof config.url !== "string") {
    throw new TriadError("ERR_INVALID_CONFIG", "redis.url must be a string");
  }
  const connectTimeoutMs = config.connectTimeoutMs ?? 3000;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0) {
    throw new TriadError("ERR_INVALID_CONFIG", "redis.connectTimeoutMs must be a positive number");
  }
  if (config.url?.startsWith(MEMORY_SCHEME)) {
    const name = config.url.slice(MEMORY_SCHEME.length) || "default";
    return { kind: "memory", name };
  }
  if (config.url !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(config.url);
    } catch {
      throw new TriadError("ERR_INVALID_CONFIG", `redis.url is not a URL: ${redactUrl(config.url)}`);
    }
    if (parsed.protocol !== "redis:" && parsed.protocol !== "rediss:") {
      throw new TriadError(
        "ERR_INVALID_CONFIG",
        `redis.url must start with redis://, rediss:// or memory:// (got ${parsed.protocol}//)`,
      );
    }
    return {
      kind: "redis",
      url: config.url,
      useTls: parsed.protocol === "rediss:" || config.useTls === true,
      connectTimeoutMs,
      ...(config.password !== undefined ? { password: config.password } : {}),
      ...(config.db !== undefined ? { db: config.db } : {}),
    };
  }
  const host = config.host ?? "localhost";
  const port = config.port ?? 6379;
  if (!Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new TriadError("ERR_INVALID_CONFIG", `redis.port must be an integer in 1..65535 (got ${port})`);
  }
  const useTls = config.useTls === true;
  return {
    kind: "redis",
    url: `${useTls ? "rediss" : "redis"}://${host.includes(":") ? `[${host}]` : host}:${port}`,
    useTls,
    connectTimeoutMs,
    ...(config.password !== undefined ? { password: config.password } : {}),
    ...(config.db !== undefined ? { db: config.db } : {}),
  };
}

/** A URL fit for a log line: the password, if any, replaced. */
export function redactUrl(url: string): string {
  return url.replace(
    /\/\/([^@/]*)@/,
    (_m, auth: string) => `//${auth.includes(":") ? `${auth.split(":")[0]}:***` : "***"}@`,
  );
}
