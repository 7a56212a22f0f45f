import { createCluster, type RedisClusterType } from "redis";
import { replyWaitsFor } from "../../busy-poll.js";
import { TriadError } from "../../errors.js";
import type { ResolvedStoreTarget } from "../config.js";
import { redactUrl } from "../config.js";
import type { ScriptReply, SetOptions, StoreEngine, StoreScript } from "../engine.js";
import { CommandWatchdog } from "./command-watchdog.js";
import { COMMAND_TIMEOUT_MS } from "./redis.js";

type ClusterTarget = Extract<ResolvedStoreTarget, { kind: "cluster" }>;
type Cluster = RedisClusterType;

/**
 * The engine on Redis Cluster, through node-redis' cluster client: it learns the slot map from
 * the root nodes, routes each command by its first key, and follows MOVED and ASK. Every
 * multi-key script of Triad keeps its keys in one slot with a {hash tag}, so a script runs
 * whole on one node. Pub/sub is sharded (SSUBSCRIBE / SPUBLISH): a channel lives on its
 * slot's node, so a publish counts exactly the receivers of that channel, as on one Redis.
 */
export class RedisClusterEngine implements StoreEngine {
  readonly kind = "cluster" as const;
  private cluster: Cluster | undefined;
  private lastError: Error | undefined;
  private readonly channels = new Map<string, (message: string, channel: string) => void>();
  private readonly watchdog: CommandWatchdog;

  constructor(private readonly target: ClusterTarget) {
    this.watchdog = new CommandWatchdog(
      COMMAND_TIMEOUT_MS,
      () => this.where(),
      undefined,
      replyWaitsFor(target.busyPollUs),
    );
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
          ...(this.target.useTls ? { tls: true as const } : {}),
          // As on one Redis: give up fast before the first connection, retry for ever after it.
          reconnectStrategy: (retries: number, cause: Error) =>
            everReady ? Math.min(50 * 2 ** retries, 1000) : retries < 3 ? 100 : cause,
        },
      },
    }) as unknown as Cluster;
    cluster.on("connect", () => {
      everReady = true;
    });
    cluster.on("error", (err: Error) => {
      this.lastError = err;
    });
    return cluster;
  }

  async connect(): Promise<boolean> {
    if (this.cluster?.isOpen) return true;
    const cluster = this.makeCluster();
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        cluster.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error("connect timed out")),
            this.target.connectTimeoutMs + 1000,
          );
        }),
      ]);
      this.cluster = cluster;
      return true;
    } catch (err) {
      this.lastError = err as Error;
      try {
        cluster.destroy();
      } catch {
        // already closed
      }
      return false;
    } finally {
      clearTimeout(timer);
    }
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
      throw new TriadError(
        "ERR_NOT_CONNECTED",
        `not connected to Redis Cluster at ${this.where()}: call connect() first${why}`,
      );
    }
    return this.cluster;
  }

  /** A command routed by `key` (its slot's master). */
  private send(key: string, args: (string | number)[]): Promise<ScriptReply> {
    return this.watchdog.watch(this.c.sendCommand(key, false, args.map(String)) as Promise<ScriptReply>);
  }

  async get(key: string): Promise<string | null> {
    return (await this.send(key, ["GET", key])) as string | null;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const args: (string | number)[] = ["SET", key, value];
    if (options.px !== undefined) args.push("PX", options.px);
    else if (options.keepTtl) args.push("KEEPTTL");
    if (options.nx) args.push("NX");
    return (await this.send(key, args)) === "OK";
  }

  async del(key: string): Promise<number> {
    return (await this.send(key, ["DEL", key])) as number;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.send(key, ["EXISTS", key])) === 1;
  }

  async incrBy(key: string, amount: number): Promise<number> {
    return (await this.send(key, ["INCRBY", key, amount])) as number;
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

  async runScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    const tail = [String(keys.length), ...keys, ...args.map(String)];
    const route = keys[0] ?? "";
    try {
      return await this.send(route, ["EVALSHA", script.sha1, ...tail]);
    } catch (err) {
      // Each node has its own script cache (empty after a restart or a failover).
      if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
      return await this.send(route, ["EVAL", script.lua, ...tail]);
    }
  }
}
