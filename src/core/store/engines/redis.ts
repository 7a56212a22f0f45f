import { createClient, type RedisClientType } from "redis";
import { replyWaitsFor } from "../../busy-poll.js";
import { storeUnavailable } from "../../errors.js";
import type { ResolvedStoreTarget } from "../config.js";
import { redactUrl } from "../config.js";
import { connectAttempt } from "../connect-failure.js";
import type { ScriptReply, StoreEngine } from "../engine.js";
import type { StoreOutage } from "../store-outage.js";
import { CommandWatchdog } from "./command-watchdog.js";
import { COMMAND_TIMEOUT_MS, NodeRedisEngine } from "./node-redis-engine.js";
import { writtenSoon } from "./written-soon.js";

type RedisTarget = Extract<ResolvedStoreTarget, { kind: "redis" }>;
type Client = RedisClientType;
type Reply = ScriptReply;

/**
 * The engine on a real Redis, through node-redis. Commands share one auto-pipelined
 * connection (commands issued in one tick go out together); pub/sub has its own connection,
 * as Redis requires. Compare-and-set is done in Lua, never with WATCH on the shared connection.
 */
export class RedisEngine extends NodeRedisEngine implements StoreEngine {
  readonly kind = "redis" as const;
  private client: Client | undefined;
  private subscriber: Client | undefined;
  private readonly watchdog: CommandWatchdog;

  constructor(
    private readonly target: RedisTarget,
    outage?: StoreOutage,
  ) {
    super();
    this.watchdog = new CommandWatchdog(
      COMMAND_TIMEOUT_MS,
      () => redactUrl(this.target.url),
      undefined,
      replyWaitsFor(target.busyPollUs),
      outage,
    );
  }

  private makeClient(): Client {
    let everReady = false;
    const client = createClient({
      url: this.target.url,
      ...(this.target.password !== undefined ? { password: this.target.password } : {}),
      ...(this.target.db !== undefined ? { database: this.target.db } : {}),
      // No per-command timer (see CommandWatchdog): our watchdog keeps the deadline.
      commandOptions: { timeout: 0 },
      socket: {
        connectTimeout: this.target.connectTimeoutMs,
        ...(this.target.useTls ? { tls: true as const, ...this.target.tls } : {}),
        // Before the first connection: give up fast, so connect() can say false. After it: retry
        // for ever with capped backoff; commands wait in the offline queue meanwhile.
        reconnectStrategy: (retries: number, cause: Error) =>
          everReady ? Math.min(50 * 2 ** retries, 1000) : retries < 3 ? 100 : cause,
      },
    }) as unknown as Client;
    client.on("ready", () => {
      everReady = true;
    });
    // Without a listener node-redis would crash the process on a dropped connection.
    client.on("error", (err: Error) => {
      this.lastError = err;
      this.attemptErrors?.push(err);
    });
    return client;
  }

  async connect(): Promise<boolean> {
    if (this.client?.isOpen) return true;
    const client = this.makeClient();
    const opened = await this.opened(
      () => client.connect(),
      () => client.destroy(),
      this.target.connectTimeoutMs + 1000,
      connectAttempt(this.target),
    );
    if (opened) this.client = client;
    return opened;
  }

  async disconnect(): Promise<void> {
    this.watchdog.stop();
    const clients = [this.subscriber, this.client];
    this.subscriber = undefined;
    this.client = undefined;
    for (const client of clients) {
      if (client === undefined) continue;
      try {
        await client.close();
      } catch {
        client.destroy();
      }
    }
  }

  private get c(): Client {
    if (this.client === undefined) {
      const why = this.lastError ? ` (last error: ${this.lastError.message})` : "";
      throw storeUnavailable(
        "ERR_NOT_CONNECTED",
        `not connected to Redis at ${redactUrl(this.target.url)}: call connect() first${why}`,
      );
    }
    return this.client;
  }

  protected sendStrings(_route: string, args: string[], script?: string): Promise<Reply> {
    // Not connected is a rejection, as from any promise, never a throw from a call that returns one.
    let client: Client;
    try {
      client = this.c;
    } catch (err) {
      return Promise.reject(err);
    }
    // Written at the end of this tick, not after the loop's other I/O (written-soon.ts).
    return this.watchdog.watch(
      writtenSoon(() => client.sendCommand(args)) as Promise<Reply>,
      args[0],
      script,
    );
  }

  async publish(channel: string, message: string): Promise<number> {
    return (await this.send(channel, ["PUBLISH", channel, message])) as number;
  }

  async subscribe(channels: string[], listener: (channel: string, message: string) => void): Promise<void> {
    if (this.subscriber === undefined) {
      const subscriber = this.c.duplicate() as Client;
      subscriber.on("error", (err: Error) => {
        this.lastError = err;
      });
      await subscriber.connect();
      this.subscriber = subscriber;
    }
    // node-redis re-subscribes these channels by itself after a reconnect.
    await this.subscriber.subscribe(channels, (message: string, channel: string) =>
      listener(channel, message),
    );
  }

  async unsubscribe(channels?: string[]): Promise<void> {
    if (this.subscriber === undefined) return;
    await this.subscriber.unsubscribe(channels);
  }
}
