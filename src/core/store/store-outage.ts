import { STORE_RETRY_AFTER_S, storeUnavailable, type TriadError } from "../errors.js";

/** Error replies of a Redis that cannot serve now (failing over, loading, busy), not of a bad request. */
const UNAVAILABLE_REPLY = /^(CLUSTERDOWN|TRYAGAIN|LOADING|MASTERDOWN|READONLY|BUSY|NOREPLICAS)\b/;
/** node-redis' errors for a connection that is gone, closed, offline or cannot be made. */
const CONNECTION_ERRORS = new Set([
  "SocketClosedUnexpectedlyError",
  "ClientClosedError",
  "ClientOfflineError",
  "DisconnectsClientError",
  "ConnectionTimeoutError",
  "SocketTimeoutError",
  "RootNodesUnavailableError",
  "ReconnectStrategyError",
  "MaxCommandRedirectionsError",
]);
const SOCKET_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
]);

/**
 * node-redis' cluster client (6.x) while its slot map is rediscovered in a failover, for a key
 * whose slot no node serves yet: `this.slots[slot].master` of a slot that is not there.
 */
const NO_SLOT_NODE = /^Cannot read properties of undefined \(reading 'master'\)/;

/**
 * `err` as the caller should see it: a store that cannot answer now (a connection lost or
 * refused, a cluster failing over) becomes ERR_STORE_UNAVAILABLE, which every HTTP edge answers
 * 503 with Retry-After; any other error (a bad script, a wrong type) is returned as it is.
 * `command`: what failed ("GET", "script assign-unplaced-1"), named in the message so that a log
 * of it (an unhandled one's too, whose stack ends in the engine) tells which call it was.
 */
export function asStoreError(err: unknown, command?: string): unknown {
  if (!(err instanceof Error)) return err;
  const code = (err as NodeJS.ErrnoException).code;
  const unavailable =
    UNAVAILABLE_REPLY.test(err.message) ||
    CONNECTION_ERRORS.has(err.constructor.name) ||
    (code !== undefined && SOCKET_CODES.has(code)) ||
    err.message.startsWith("Cannot find node") ||
    (err instanceof TypeError && NO_SLOT_NODE.test(err.message));
  if (!unavailable) return err;
  return storeUnavailable(
    "ERR_STORE_UNAVAILABLE",
    `the store is unavailable (${err.message.split("\n")[0]}${command === undefined ? "" : `; ${command}`}); try again in ${STORE_RETRY_AFTER_S} s`,
  );
}

export type OutageListener = {
  /** The first unavailability error of an outage. */
  down?: (err: TriadError) => void;
  /** The first reply after `quietMs` without one: the outage lasted `downMs`. */
  up?: (downMs: number) => void;
};

/**
 * Whether the store is in an outage, told once when it starts and once when it ends, however
 * many commands fail in between: a log line per outage, not per request. An outage ends with a
 * reply after `quietMs` without an unavailability error, so that a Redis Cluster with one shard
 * down (replies from the others, errors from that one) is one outage, not a flicker of them.
 */
export class StoreOutage {
  private downSince: number | undefined;
  private lastFailure = 0;
  private endedCount = 0;
  private readonly listeners: OutageListener[] = [];

  constructor(
    private readonly quietMs = 1000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Starts telling `listener`; the function returned stops it. */
  listen(listener: OutageListener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  get down(): boolean {
    return this.downSince !== undefined;
  }

  /** How long the outage has lasted so far (ms), null when there is none. */
  get downForMs(): number | null {
    return this.downSince === undefined ? null : this.now() - this.downSince;
  }

  /**
   * How many outages have ended so far: what a command is stamped with when it is sent, for
   * failed() to know whether it was sent before the last outage ended.
   */
  get ended(): number {
    return this.endedCount;
  }

  /**
   * A command failed because the store is unavailable. `sentWhenEnded`: `ended` when it was sent.
   * One sent before the last outage ended that fails only after it (a command that waited out
   * its deadline in the offline queue, its reply still on its way on a loaded machine) is a
   * leftover of that outage, told already: not the start of a new one.
   */
  failed(err: TriadError, sentWhenEnded?: number): void {
    if (this.downSince === undefined && sentWhenEnded !== undefined && sentWhenEnded < this.endedCount)
      return;
    this.lastFailure = this.now();
    if (this.downSince !== undefined) return;
    this.downSince = this.lastFailure;
    for (const l of this.listeners) l.down?.(err);
  }

  /** A command was answered. Cheap when there is no outage: it runs for every reply. */
  answered(): void {
    if (this.downSince === undefined) return;
    const now = this.now();
    if (now - this.lastFailure < this.quietMs) return;
    const downMs = now - this.downSince;
    this.downSince = undefined;
    this.endedCount++;
    for (const l of this.listeners) l.up?.(downMs);
  }
}
