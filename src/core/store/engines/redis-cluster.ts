import { createCluster, type RedisClusterType } from "redis";
import { replyWaitsFor } from "../../busy-poll.js";
import { storeUnavailable } from "../../errors.js";
import type { ResolvedStoreTarget } from "../config.js";
import { redactUrl } from "../config.js";
import { connectAttempt } from "../connect-failure.js";
import type { ScriptReply, StoreEngine } from "../engine.js";
import type { StoreOutage } from "../store-outage.js";
import { resubscribeMovedChannels } from "./cluster-resubscribe.js";
import { CommandWatchdog } from "./command-watchdog.js";
import { COMMAND_TIMEOUT_MS, NodeRedisEngine } from "./node-redis-engine.js";

type ClusterTarget = Extract<ResolvedStoreTarget, { kind: "cluster" }>;
type Cluster = RedisClusterType;

/**
 * How soon the slot map is asked for again once a node's connection is lost, and at most how
 * often while the store is unavailable. node-redis waits 5 s by default; a failover promotes a
 * replica a few seconds after its master died, and until the map says so, writes for its slots
 * go nowhere.
 */
const SLOT_REFRESH_MS = 100;
/** Longest wait between reconnection attempts to a lost node (each attempt may refresh the map). */
const NODE_RECONNECT_MAX_MS = 200;

/**
 * The engine on Redis Cluster, through node-redis' cluster client: it learns the slot map from
 * the root nodes, routes each command by its first key, and follows MOVED and ASK. Every
 * multi-key script of Triad keeps its keys in one slot with a {hash tag}, so a script runs
 * whole on one node. Pub/sub is sharded (SSUBSCRIBE / SPUBLISH): a channel lives on its
 * slot's node, so a publish counts exactly the receivers of that channel, as on one Redis.
 * The slot map is refreshed on MOVED (node-redis), on a node's lost connection and on every
 * unavailability error (CLUSTERDOWN, TRYAGAIN…), at most every SLOT_REFRESH_MS, so that writes
 * reach a promoted replica within a fraction of a second of its promotion.
 */
export class RedisClusterEngine extends NodeRedisEngine implements StoreEngine {
  readonly kind = "cluster" as const;
  private cluster: Cluster | undefined;
  private readonly channels = new Map<string, (message: string, channel: string) => void>();
  private readonly watchdog: CommandWatchdog;
  private lastRefresh = 0;

  constructor(
    private readonly target: ClusterTarget,
    outage?: StoreOutage,
  ) {
    super();
    this.watchdog = new CommandWatchdog(
      COMMAND_TIMEOUT_MS,
      () => this.where(),
      undefined,
      replyWaitsFor(target.busyPollUs),
      {
        answered: () => outage?.answered(),
        failed: (err, era) => {
          outage?.failed(err, era);
          this.refreshSlots();
        },
        get ended() {
          return outage?.ended;
        },
      },
    );
  }

  /** Asks the cluster for its slot map again, unless that was done in the last SLOT_REFRESH_MS. */
  private refreshSlots(): void {
    const now = performance.now();
    if (this.cluster === undefined || now - this.lastRefresh < SLOT_REFRESH_MS) return;
    this.lastRefresh = now;
    // node-redis' own refresh (the one MOVED triggers); concurrent calls share one discovery.
    void this.cluster._slots.rediscover().catch(() => {});
  }

  private where(): string {
    return this.target.rootNodes.map(redactUrl).join(", ");
  }

  private makeCluster(): Cluster {
    let everReady = false;
    const cluster = createCluster({
      rootNodes: this.target.rootNodes.map((url) => ({ url })),
      // No per-command timer (see CommandWatchdog): our watchdog keeps the deadline.
      commandOptions: { timeout: 0 },
      defaults: {
        ...(this.target.username !== undefined ? { username: this.target.username } : {}),
        ...(this.target.password !== undefined ? { password: this.target.password } : {}),
        socket: {
          connectTimeout: this.target.connectTimeoutMs,
          ...(this.target.useTls ? { tls: true as const, ...this.target.tls } : {}),
          // As on one Redis: give up fast before the first connection, retry for ever after it.
          reconnectStrategy: (retries: number, cause: Error) =>
            everReady ? Math.min(50 * 2 ** retries, NODE_RECONNECT_MAX_MS) : retries < 3 ? 100 : cause,
        },
      },
      // A lost node: the map is asked again SLOT_REFRESH_MS after the first reconnection attempt,
      // and at every attempt after that (with the other lost nodes left out of the asking).
      topologyRefreshOnReconnectionAttemptStrategy: SLOT_REFRESH_MS,
    }) as unknown as Cluster;
    cluster.on("connect", () => {
      everReady = true;
    });
    cluster.on("error", (err: Error) => {
      this.lastError = err;
      this.attemptErrors?.push(err);
    });
    cluster.on("node-error", () => this.refreshSlots());
    resubscribeMovedChannels(
      cluster,
      (channel, listener) => cluster.isOpen && this.channels.get(channel) === listener,
      (err) => {
        this.lastError = err;
      },
    );
    return cluster;
  }

  async connect(): Promise<boolean> {
    if (this.cluster?.isOpen) return true;
    const cluster = this.makeCluster();
    // "All the root nodes are unavailable" says nothing: each root node reported its own error.
    const opened = await this.opened(
      () => cluster.connect(),
      () => cluster.destroy(),
      this.target.connectTimeoutMs + 1000,
      connectAttempt(this.target),
    );
    if (opened) this.cluster = cluster;
    return opened;
  }

  async disconnect(): Promise<void> {
    const cluster = this.cluster;
    this.cluster = undefined;
    this.channels.clear();
    this.watchdog.stop();
    if (cluster === undefined) return;
    try {
      await cluster.close();
    } catch {
      cluster.destroy();
    }
  }

  private get c(): Cluster {
    if (this.cluster === undefined) {
      const why = this.lastError ? ` (last error: ${this.lastError.message})` : "";
      throw storeUnavailable(
        "ERR_NOT_CONNECTED",
        `not connected to Redis Cluster at ${this.where()}: call connect() first${why}`,
      );
    }
    return this.cluster;
  }

  /** A command routed by `route` (its slot's master). */
  protected sendStrings(route: string, args: string[], script?: string): Promise<ScriptReply> {
    // Not connected is a rejection, as from any promise, never a throw from a call that returns one.
    let cluster: Cluster;
    try {
      cluster = this.c;
    } catch (err) {
      return Promise.reject(err);
    }
    return this.watchdog.watch(
      cluster.sendCommand(route, false, args) as Promise<ScriptReply>,
      args[0],
      script,
    );
  }

  async publish(channel: string, message: string): Promise<number> {
    return (await this.send(channel, ["SPUBLISH", channel, message])) as number;
  }

  async subscribe(channels: string[], listener: (channel: string, message: string) => void): Promise<void> {
    // One channel per SSUBSCRIBE: channels of different slots live on different nodes.
    for (const channel of channels) {
      const previous = this.channels.get(channel);
      if (previous !== undefined) await this.c.SUNSUBSCRIBE(channel, previous);
      const onMessage = (message: string, ch: string) => listener(ch, message);
      this.channels.set(channel, onMessage);
      await this.c.SSUBSCRIBE(channel, onMessage);
    }
  }

  async unsubscribe(channels?: string[]): Promise<void> {
    for (const channel of channels ?? [...this.channels.keys()]) {
      const listener = this.channels.get(channel);
      if (listener === undefined) continue;
      this.channels.delete(channel);
      await this.c.SUNSUBSCRIBE(channel, listener);
    }
  }
}
