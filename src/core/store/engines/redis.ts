import { createClient, type RedisClientType } from "redis";
import { replyWaitsFor } from "../../busy-poll.js";
import { storeUnavailable } from "../../errors.js";
import type { ResolvedStoreTarget } from "../config.js";
import { redactUrl } from "../config.js";
import { connectAttempt, diagnoseConnectFailures, type StoreConnectFailure } from "../connect-failure.js";
import type { ScriptReply, SetOptions, StoreEngine, StoreScript } from "../engine.js";
import type { StoreOutage } from "../store-outage.js";
import { CommandWatchdog } from "./command-watchdog.js";
import { writtenSoon } from "./written-soon.js";

/** How long a command may wait for its reply before it is refused (node-redis' own default). */
export const COMMAND_TIMEOUT_MS = 5000;

type RedisTarget = Extract<ResolvedStoreTarget, { kind: "redis" }>;
type Client = RedisClientType;
type Reply = ScriptReply;

/**
 * The engine on a real Redis, through node-redis. Commands share one auto-pipelined
 * connection (commands issued in one tick go out together); pub/sub has its own connection,
 * as Redis requires. Compare-and-set is done in Lua, never with WATCH on the shared connection.
 */
export class RedisEngine implements StoreEngine {
  readonly kind = "redis" as const;
  private client: Client | undefined;
  private subscriber: Client | undefined;
  private lastError: Error | undefined;
  private failure: StoreConnectFailure | undefined;
  /** The errors reported while connect() runs (each attempt's), for its diagnosis. */
  private attemptErrors: unknown[] | undefined;
  private readonly watchdog: CommandWatchdog;

  constructor(
    private readonly target: RedisTarget,
    outage?: StoreOutage,
  ) {
    this.watchdog = new CommandWatchdog(
      COMMAND_TIMEOUT_MS,
      () => redactUrl(this.target.url),
      undefined,
      replyWaitsFor(target.busyPollUs),
      outage,
    );
  }

  /** Why the last connect() resolved false; undefined once connected. */
  get connectFailure(): StoreConnectFailure | undefined {
    return this.failure;
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
    this.lastError = undefined;
    this.attemptErrors = [];
    const client = this.makeClient();
    const deadline = this.target.connectTimeoutMs + 1000;
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        client.connect(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("connect timed out")), deadline);
        }),
      ]);
      this.client = client;
      this.failure = undefined;
      return true;
    } catch (err) {
      // Each attempt reported its error; the most telling is the cause (not our own "timed out",
      // not a reset that hid a TLS alert).
      this.failure = diagnoseConnectFailures(
        [...(this.attemptErrors ?? []), err],
        connectAttempt(this.target),
      );
      this.lastError = err as Error;
      try {
        client.destroy();
      } catch {
        // already closed
      }
      return false;
    } finally {
      this.attemptErrors = undefined;
      clearTimeout(timer);
    }
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

  private send(args: (string | number)[]): Promise<Reply> {
    return this.sendStrings(args.map(String));
  }

  private sendStrings(args: string[]): Promise<Reply> {
    const client = this.c;
    // Written at the end of this tick, not after the loop's other I/O (written-soon.ts).
    return this.watchdog.watch(writtenSoon(() => client.sendCommand(args)) as Promise<Reply>);
  }

  async get(key: string): Promise<string | null> {
    return (await this.send(["GET", key])) as string | null;
  }

  async set(key: string, value: string, options: SetOptions = {}): Promise<boolean> {
    const args: (string | number)[] = ["SET", key, value];
    if (options.px !== undefined) args.push("PX", options.px);
    else if (options.keepTtl) args.push("KEEPTTL");
    if (options.nx) args.push("NX");
    return (await this.send(args)) === "OK";
  }

  async del(key: string): Promise<number> {
    return (await this.send(["DEL", key])) as number;
  }

  async exists(key: string): Promise<boolean> {
    return (await this.send(["EXISTS", key])) === 1;
  }

  async incrBy(key: string, amount: number): Promise<number> {
    return (await this.send(["INCRBY", key, amount])) as number;
  }

  async publish(channel: string, message: string): Promise<number> {
    return (await this.send(["PUBLISH", channel, message])) as number;
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

  async waitReplicas(_routeKey: string, replicas: number, timeoutMs: number): Promise<number> {
    return (await this.send(["WAIT", replicas, timeoutMs])) as number;
  }

  runScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<Reply> {
    return evalScript(script, keys, args, (command) => this.sendStrings(command));
  }
}

/**
 * Runs `script` through `send`: EVALSHA sha numkeys keys... args..., the command built once, as
 * strings (it is on every task's path, with up to thousands of arguments); when the server's
 * script cache lacks it (empty after a Redis restart or failover), the source is sent once.
 */
export function evalScript<R>(
  script: StoreScript,
  keys: string[],
  args: (string | number)[],
  send: (command: string[]) => Promise<R>,
): Promise<R> {
  const command: string[] = ["EVALSHA", script.sha1, String(keys.length)];
  for (const key of keys) command.push(key);
  for (const arg of args) command.push(typeof arg === "string" ? arg : String(arg));
  return send(command).catch((err: unknown) => {
    if (!String((err as Error).message).startsWith("NOSCRIPT")) throw err;
    command[0] = "EVAL";
    command[1] = script.lua;
    return send(command);
  });
}
