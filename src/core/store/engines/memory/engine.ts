import { storeUnavailable } from "../../../errors.js";
import type { ScriptReply, SetOptions, StoreEngine, StoreScript } from "../../engine.js";
import { type MemoryServer, memoryServer } from "./server.js";

/**
 * The embedded engine: no server process, Redis semantics, one event loop as the lock. Like the
 * Redis engines, it serves only between connect() and disconnect(): a command before or after is
 * refused with ERR_NOT_CONNECTED (it was served, so code that kept using a closed client worked
 * here and failed on Redis).
 */
export class MemoryEngine implements StoreEngine {
  readonly kind = "memory" as const;
  private readonly server: MemoryServer;
  private connected = false;
  private readonly subscriptions = new Map<string, (channel: string, message: string) => void>();

  /** `maxFinished`: RedisConfig.memoryMaxFinished, for the whole named store (the last one given holds). */
  constructor(
    private readonly name: string,
    maxFinished?: number,
  ) {
    this.server = memoryServer(name);
    if (maxFinished !== undefined) this.server.keyspace.maxRetired = maxFinished;
  }

  async connect(): Promise<boolean> {
    if (!this.connected) {
      this.connected = true;
      this.server.attach();
    }
    return true;
  }

  async disconnect(): Promise<void> {
    await this.unsubscribe();
    if (this.connected) {
      this.connected = false;
      this.server.detach();
    }
  }

  /** The server, while connected; else ERR_NOT_CONNECTED, as the Redis engines say it. */
  private get open(): MemoryServer {
    if (!this.connected)
      throw storeUnavailable(
        "ERR_NOT_CONNECTED",
        `not connected to memory://${this.name}: call connect() first`,
      );
    return this.server;
  }

  private get db() {
    return this.open.keyspace;
  }

  async get(key: string): Promise<string | null> {
    return this.db.get(key);
  }

  async set(key: string, value: string, options?: SetOptions): Promise<boolean> {
    return this.db.set(key, value, options);
  }

  async del(key: string): Promise<number> {
    return this.db.del(key);
  }

  async exists(key: string): Promise<boolean> {
    return this.db.exists(key);
  }

  async incrBy(key: string, amount: number): Promise<number> {
    return this.db.incrBy(key, amount);
  }

  async publish(channel: string, message: string): Promise<number> {
    return this.open.publish(channel, message);
  }

  async subscribe(channels: string[], listener: (channel: string, message: string) => void): Promise<void> {
    const server = this.open;
    for (const channel of channels) {
      const previous = this.subscriptions.get(channel);
      if (previous !== undefined) server.unsubscribe(channel, previous);
      this.subscriptions.set(channel, listener);
      server.subscribe(channel, listener);
    }
  }

  async unsubscribe(channels?: string[]): Promise<void> {
    for (const channel of channels ?? [...this.subscriptions.keys()]) {
      const listener = this.subscriptions.get(channel);
      if (listener === undefined) continue;
      this.server.unsubscribe(channel, listener);
      this.subscriptions.delete(channel);
    }
  }

  async runScript(script: StoreScript, keys: string[], args: (string | number)[]): Promise<ScriptReply> {
    return script.memory(this.db, keys, args.map(String));
  }
}
