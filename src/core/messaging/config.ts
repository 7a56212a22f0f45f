import type { IncomingMessage, ServerResponse } from "node:http";
import { TriadError } from "../errors.js";
import { checkKnownKeys, type KeysOf } from "../known-keys.js";
import type { AgentKeysConfig } from "./agent-keys.js";
import { MAX_ID_LENGTH } from "./message-shape.js";
import type { PayloadCodec } from "./payload-codec.js";
import type { HandlerErrorEvent, RejectionEvent } from "./rejections.js";
import type { A2ARouter } from "./router.js";

/** Largest number of messages in one POST /a2a, sent or received. */
export const MAX_BATCH_MESSAGES = 1000;

export type A2AConfig = {
  agentId: string;
  /**
   * The HMAC-SHA256 secret every agent of a deployment shares; it signs what this agent sends.
   * Taken as given here (the seed's examples pass "secret"); TRIAD_SECRET, where the CLI and the
   * agents read it, must be MIN_SECRET_BYTES at least (shared-secret.ts).
   */
  tokenSecret: string;
  /**
   * Opt-in per-agent keys: this agent signs with its own Ed25519 private key, and takes a message
   * only if it verifies under the public key `directory` has for its sender. `tokenSecret` is
   * then not used (it may be "").
   */
  agentKeys?: AgentKeysConfig;
  /** Port of `listen()` (POST /a2a). 0 or unset: any free port, reported by listen(). */
  agentPort?: number;
  /** Address `listen()` binds. Default 127.0.0.1; "0.0.0.0" to take peers from other hosts. */
  host?: string;
  /** Messages stamped further than this from our clock are refused. Default 300. */
  maxClockSkewSeconds?: number;
  /** Name of `tokenSecret` in the keyring, reported in stats().verifiedByKey. Default "current". */
  keyId?: string;
  /** Secrets still accepted (never used to sign) while a key rotation rolls out: key id -> secret. */
  previousSecrets?: Record<string, string>;
  /** In-process transport. Default: the process-wide router; null: none (HTTP peers only). */
  router?: A2ARouter | null;
  /** HTTP peers: agent id -> base URL of its listener, e.g. "http://10.0.0.7:9001". */
  peers?: Record<string, string>;
  /** Largest POST /a2a body accepted, and the byte budget of a batch sent. Default 1 MiB. */
  maxBodyBytes?: number;
  /** How long send() keeps retrying a peer that cannot be reached. Default 10 s. */
  sendTimeoutMs?: number;
  /** Per POST attempt. Default 5 s. */
  requestTimeoutMs?: number;
  /** Most messages in one POST. Default 100. */
  maxBatchMessages?: number;
  /** Messages waiting per peer before send() refuses more (ERR_A2A_QUEUE_FULL). Default 10,000. */
  maxQueuedPerPeer?: number;
  /** Concurrent POSTs per peer. Default 8. */
  maxInFlightPerPeer?: number;
  /**
   * Send to each HTTP peer over one message stream (GET /a2a upgraded to `triad-a2a-stream`)
   * instead of a POST per batch; a peer that does not take streams gets POSTs. Default true.
   */
  streams?: boolean;
  /** Requests awaiting a response before sendRequest() refuses more. Default 10,000. */
  maxPendingRequests?: number;
  /** Handlers running at once before incoming messages are refused as busy (retried). Default 1,000. */
  maxConcurrentHandlers?: number;
  /** Request ids remembered for replay protection. Default 100,000. */
  replayCacheSize?: number;
  /**
   * Messages failing admission (bad signature, malformed, stale, misdirected, too large) that
   * one peer address may send over HTTP: `burst` at once, earning back `perSecond`. A peer that
   * spent it gets 429 with Retry-After, its bodies unread. Default 20 and 5/s.
   */
  failureBudget?: { burst?: number; perSecond?: number };
  /** Serves every path but /a2a on the listener's port (e.g. the coordinator's REST API). */
  httpFallback?: (req: IncomingMessage, res: ServerResponse) => void;
  /** Told about every refused message, once; the place to log it and count it as a metric. */
  onRejected?: (event: RejectionEvent) => void;
  /** Told when a handler throws or rejects. */
  onHandlerError?: (event: HandlerErrorEvent) => void;
  /** Wall clock in epoch milliseconds, for tests. Default Date.now. */
  now?: () => number;
  /**
   * A shorter form of some payloads (payload-codec.ts): used for an HTTP peer whose message
   * stream announced it, and read from any peer. None by default.
   */
  payloadCodec?: PayloadCodec;
};

export type ResolvedA2AConfig = Required<
  Omit<
    A2AConfig,
    | "router"
    | "peers"
    | "previousSecrets"
    | "onRejected"
    | "onHandlerError"
    | "agentPort"
    | "httpFallback"
    | "failureBudget"
    | "agentKeys"
    | "payloadCodec"
  >
> & {
  agentPort: number;
  failureBudget: { burst: number; perSecond: number };
  previousSecrets: Record<string, string>;
  peers: Record<string, string>;
};

/** Every A2AConfig key and its type: a misspelt one (`agentPrt`) was ignored, and the default used. */
export const A2A_CONFIG_KEYS: KeysOf<A2AConfig> = {
  agentId: "string",
  tokenSecret: "string",
  agentKeys: "object",
  agentPort: "number",
  host: "string",
  maxClockSkewSeconds: "number",
  keyId: "string",
  previousSecrets: "object",
  router: "object|null",
  peers: "object",
  maxBodyBytes: "number",
  sendTimeoutMs: "number",
  requestTimeoutMs: "number",
  maxBatchMessages: "number",
  maxQueuedPerPeer: "number",
  maxInFlightPerPeer: "number",
  streams: "boolean",
  maxPendingRequests: "number",
  maxConcurrentHandlers: "number",
  replayCacheSize: "number",
  failureBudget: "object",
  httpFallback: "function",
  onRejected: "function",
  onHandlerError: "function",
  now: "function",
  payloadCodec: "object",
};
const FAILURE_BUDGET_KEYS: KeysOf<NonNullable<A2AConfig["failureBudget"]>> = {
  burst: "number",
  perSecond: "number",
};

export function resolveA2AConfig(config: A2AConfig): ResolvedA2AConfig {
  if (typeof config !== "object" || config === null) invalid("the a2a config must be an object");
  checkKnownKeys("a2a", config, A2A_CONFIG_KEYS, "a2a.");
  checkKnownKeys("a2a.failureBudget", config.failureBudget, FAILURE_BUDGET_KEYS, "a2a.failureBudget.");
  if (config.router && typeof (config.router as Partial<A2ARouter>).registerAgent !== "function")
    invalid("a2a.router must be an A2ARouter (or null for none)");
  const { agentId, tokenSecret } = config;
  if (typeof agentId !== "string" || agentId.length === 0 || agentId.length > MAX_ID_LENGTH) {
    invalid(`a2a.agentId must be a non-empty string of at most ${MAX_ID_LENGTH} characters`);
  }
  if (typeof tokenSecret !== "string" || (tokenSecret.length === 0 && config.agentKeys === undefined)) {
    invalid("a2a.tokenSecret must be a non-empty string (the secret every agent of the deployment shares)");
  }
  const maxClockSkewSeconds = positive(config.maxClockSkewSeconds, 300, "maxClockSkewSeconds");
  const sendTimeoutMs = positive(config.sendTimeoutMs, 10_000, "sendTimeoutMs");
  if (sendTimeoutMs >= maxClockSkewSeconds * 1000) {
    // A message retried past the skew window would arrive stale; give up before that.
    invalid("a2a.sendTimeoutMs must be shorter than maxClockSkewSeconds");
  }
  const agentPort = config.agentPort ?? 0;
  if (!Number.isInteger(agentPort) || agentPort < 0 || agentPort > 65535) {
    invalid(`a2a.agentPort must be an integer in 0..65535 (got ${agentPort})`);
  }
  const codec = config.payloadCodec;
  if (
    codec !== undefined &&
    (typeof codec !== "object" ||
      codec === null ||
      typeof codec.name !== "string" ||
      !/^[A-Za-z0-9.-]{1,64}$/.test(codec.name) ||
      typeof codec.encode !== "function" ||
      typeof codec.decode !== "function")
  ) {
    // The name goes into a response header: a token, nothing that could end the line.
    invalid(
      "a2a.payloadCodec must have a name of letters, digits, '.' and '-' (at most 64), encode and decode",
    );
  }
  const maxBatchMessages = positiveInt(config.maxBatchMessages, 100, "maxBatchMessages");
  if (maxBatchMessages > MAX_BATCH_MESSAGES)
    invalid(`a2a.maxBatchMessages must be at most ${MAX_BATCH_MESSAGES}`);
  return {
    agentId,
    tokenSecret,
    agentPort,
    host: nonEmpty(config.host, "127.0.0.1", "host"),
    maxClockSkewSeconds,
    keyId: nonEmpty(config.keyId, "current", "keyId"),
    previousSecrets: stringRecord(config.previousSecrets, "previousSecrets"),
    peers: stringRecord(config.peers, "peers"),
    maxBodyBytes: positiveInt(config.maxBodyBytes, 1024 * 1024, "maxBodyBytes"),
    sendTimeoutMs,
    requestTimeoutMs: positive(config.requestTimeoutMs, 5_000, "requestTimeoutMs"),
    maxBatchMessages,
    maxQueuedPerPeer: positiveInt(config.maxQueuedPerPeer, 10_000, "maxQueuedPerPeer"),
    maxInFlightPerPeer: positiveInt(config.maxInFlightPerPeer, 8, "maxInFlightPerPeer"),
    streams: flag(config.streams, true, "streams"),
    maxPendingRequests: positiveInt(config.maxPendingRequests, 10_000, "maxPendingRequests"),
    maxConcurrentHandlers: positiveInt(config.maxConcurrentHandlers, 1_000, "maxConcurrentHandlers"),
    replayCacheSize: positiveInt(config.replayCacheSize, 100_000, "replayCacheSize"),
    failureBudget: {
      burst: positiveInt(config.failureBudget?.burst, 20, "failureBudget.burst"),
      perSecond: positive(config.failureBudget?.perSecond, 5, "failureBudget.perSecond"),
    },
    now: typeof config.now === "function" ? config.now : Date.now,
  };
}

function positive(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0) {
    invalid(`a2a.${name} must be a positive number (got ${String(value)})`);
  }
  return value;
}

function positiveInt(value: number | undefined, fallback: number, name: string): number {
  const n = positive(value, fallback, name);
  if (!Number.isInteger(n)) invalid(`a2a.${name} must be an integer (got ${n})`);
  return n;
}

function flag(value: boolean | undefined, fallback: boolean, name: string): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") invalid(`a2a.${name} must be true or false (got ${String(value)})`);
  return value;
}

function nonEmpty(value: string | undefined, fallback: string, name: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length === 0) invalid(`a2a.${name} must be a non-empty string`);
  return value;
}

function stringRecord(value: Record<string, string> | undefined, name: string): Record<string, string> {
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value))
    invalid(`a2a.${name} must be an object`);
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== "string" || v.length === 0) invalid(`a2a.${name}.${k} must be a non-empty string`);
  }
  return { ...value };
}

function invalid(message: string): never {
  throw new TriadError("ERR_INVALID_CONFIG", message);
}
