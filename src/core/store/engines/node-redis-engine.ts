import {
  type ConnectAttempt,
  diagnoseConnectFailures,
  probeNotTls,
  type StoreConnectFailure,
} from "../connect-failure.js";
import type { ScriptReply, SetOptions, StoreScript } from "../engine.js";

/** How long a command may wait for its reply before it is refused (node-redis' own default). */
export const COMMAND_TIMEOUT_MS = 5000;

/**
 * What the two engines on node-redis (one Redis, Redis Cluster) share: a connect bounded by a
 * deadline whose failure is diagnosed from every attempt's error, the plain key commands, and
 * scripts by EVALSHA. Each engine says how a command is routed and sent (`sendStrings`).
 */
export abstract class NodeRedisEngine {
  protected lastError: Error | undefined;
  protected failure: StoreConnectFailure | undefined;
  /** The errors reported while connect() runs (each attempt's), for its diagnosis. */
  protected attemptErrors: unknown[] | undefined;

  /** Why the last connect() resolved false; undefined once connected. */
  get connectFailure(): StoreConnectFailure | undefined {
    return this.failure;
  }

  /**
   * Sends one command; `route` is the key whose slot's node takes it (on a cluster). `script`:
   * the name of the script it runs, named in its error if it fails (see CommandWatchdog).
   */
  protected abstract sendStrings(route: string, args: string[], script?: string): Promise<ScriptReply>;

  protected send(route: string, args: (string | number)[]): Promise<ScriptReply> {
    return this.sendStrings(route, args.map(String));
  }

  /**
   * Opens a client within `deadlineMs`: true; or false with `connectFailure` diagnosed from the
   * errors its attempts reported (the most telling is the cause: not our own "timed out", not a
   * reset that hid a TLS alert), and the client destroyed.
   */
  protected async opened(
    open: () => Promise<unknown>,
    destroy: () => void,
    deadlineMs: number,
    attempt: ConnectAttempt,
  ): Promise<boolean> {
    this.lastError = undefined;
    this.attemptErrors = [];
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        open(),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("connect timed out")), deadlineMs);
        }),
      ]);
      this.failure = undefined;
      return true;
    } catch (err) {
      const diagnosed = diagnoseConnectFailures([...(this.attemptErrors ?? []), err], attempt);
      this.lastError = err as Error;
      try {
        destroy();
      } catch {
        // already closed
      }
      // rediss:// to a plain Redis 7 port times out (no TLS error): asked without TLS, it answers.
      this.failure = await probeNotTls(diagnosed, attempt);
      return false;
    } finally {
      this.attemptErrors = undefined;
      clearTimeout(timer);
    }
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

  async waitReplicas(routeKey: string, replicas: number, timeoutMs: number): Promise<number> {
    return (await this.send(routeKey, ["WAIT", replicas, timeoutMs])) as number;
  }

  runScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    // Routed by its first key (on a cluster each node has its own script cache).
    const route = keys[0] ?? "";
    return evalScript(script, keys, args, (command) => this.sendStrings(route, command, script.name));
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
