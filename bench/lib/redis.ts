import { createClient } from "redis";
import { RedisServer } from "../../test/helpers/redis-server.js";

/**
 * The benchmark's own redis-server on a free loopback port (the same helper the tests use:
 * no RDB snapshots, no AOF), shared by Triad and BullMQ in one run, flushed between runs.
 */
export class BenchRedis {
  private constructor(private readonly server: RedisServer) {}

  static async start(): Promise<BenchRedis> {
    return new BenchRedis(await RedisServer.start());
  }

  get url(): string {
    return this.server.url;
  }

  get pid(): number | undefined {
    return this.server.pid;
  }

  async command(...args: string[]): Promise<unknown> {
    const client = createClient({ url: this.url });
    await client.connect();
    try {
      return await client.sendCommand(args);
    } finally {
      await client.close();
    }
  }

  async flush(): Promise<void> {
    await this.command("FLUSHALL");
  }

  async stop(): Promise<void> {
    await this.server.destroy();
  }
}
