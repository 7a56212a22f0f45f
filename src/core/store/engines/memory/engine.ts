import type { ScriptReply, SetOptions, StoreEngine, StoreScript } from "../../engine.js";
import { type MemoryServer, memoryServer } from "./server.js";

/** The embedded engine: no server process, Redis semantics, one event loop as the lock. */
export class MemoryEngine implements StoreEngine {
  readonly kind = "memory" as const;
  private readonly server: MemoryServer;
  private connected = false;
  private readonly subscriptions = new Map<string, (channel: string, message: string) => void>();

  /** `maxFinished`: RedisConfig.memoryMaxFinished, for the whole named store (the last one given holds). */
  constructor(name: string, maxFinished?: number) {
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

  private get db() {
    return this.server.keyspace;
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
    return this.server.publish(channel, message);
  }

  async subscribe(channels: string[], listener: (channel: string, message: string) => void): Promise<void> {
    for (const channel of channels) {
      const previous = this.subscriptions.get(channel);
      if (previous !== undefined) this.server.unsubscribe(channel, previous);
      this.subscriptions.set(channel, listener);
      this.server.subscribe(channel, listener);
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
