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

  /** CPU seconds (user + system) the server has used so far. */
  cpuSeconds(): Promise<number> {
    return redisCpuSeconds(this.url);
  }

  async flush(): Promise<void> {
    await this.command("FLUSHALL");
  }

  async stop(): Promise<void> {
    await this.server.destroy();
  }
}

/** CPU seconds (user + system) the redis-server at `url` has used so far, from `INFO cpu`. */
export async function redisCpuSeconds(url: string): Promise<number> {
  const client = createClient({ url });
  await client.connect();
  try {
    const info = await client.info("cpu");
    const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1]);
    return field("used_cpu_user") + field("used_cpu_sys");
  } finally {
    await client.close();
  }
}
