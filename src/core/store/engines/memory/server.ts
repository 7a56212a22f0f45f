import { MemoryKeyspace } from "./keyspace.js";

type Listener = (channel: string, message: string) => void;

/**
 * One embedded "server": a keyspace and its pub/sub channels. Clients that name the same
 * `memory://name` in one process share one server, as clients of one Redis would.
 */
export class MemoryServer {
  readonly keyspace = new MemoryKeyspace();
  private readonly channels = new Map<string, Set<Listener>>();
  private clients = 0;
  private sweeper: NodeJS.Timeout | undefined;

  attach(): void {
    this.clients++;
    // Active expiry, so keys written with a TTL and never read again do not pile up.
    this.sweeper ??= setInterval(() => this.keyspace.sweep(), 100).unref();
  }

  detach(): void {
    this.clients = Math.max(0, this.clients - 1);
    if (this.clients === 0 && this.sweeper !== undefined) {
      clearInterval(this.sweeper);
      this.sweeper = undefined;
    }
  }

  subscribe(channel: string, listener: Listener): void {
    let set = this.channels.get(channel);
    if (set === undefined) {
      set = new Set();
      this.channels.set(channel, set);
    }
    set.add(listener);
  }

  unsubscribe(channel: string, listener: Listener): void {
    const set = this.channels.get(channel);
    if (set === undefined) return;
    set.delete(listener);
    if (set.size === 0) this.channels.delete(channel);
  }

  /** Delivers asynchronously, like a network server would; returns the receivers reached. */
  publish(channel: string, message: string): number {
    const set = this.channels.get(channel);
    if (set === undefined) return 0;
    const listeners = [...set];
    setImmediate(() => {
      for (const listener of listeners) listener(channel, message);
    });
    return listeners.length;
  }
}

const servers = new Map<string, MemoryServer>();

export function memoryServer(name: string): MemoryServer {
  let server = servers.get(name);
  if (server === undefined) {
    server = new MemoryServer();
    servers.set(name, server);
  }
  return server;
}

/** Forgets a named embedded store (tests, or a `triad up` run that is over). */
export function dropMemoryServer(name: string): void {
  servers.delete(name);
}
