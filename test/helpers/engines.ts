import type { RedisConfig } from "../../src/index.js";
import { testRedis, uniquePrefix } from "./redis-server.js";

/**
 * The two store engines a suite runs against unchanged: the embedded memory:// engine and a
 * real redis-server of the suite's own (or REDIS_URL). Call setup() in beforeAll and
 * teardown() in afterAll; config() gives a fresh key prefix each time.
 */
export type TestEngine = {
  name: "memory" | "redis";
  config: (prefix?: string) => RedisConfig;
  setup: () => Promise<void>;
  teardown: () => Promise<void>;
};

export function testEngines(suite: string): TestEngine[] {
  let url = "";
  let close: () => Promise<void> = async () => {};
  return [
    {
      name: "memory",
      config: (prefix) => ({
        url: `memory://${suite}-${process.pid}`,
        keyPrefix: prefix ?? uniquePrefix(suite),
      }),
      setup: async () => {},
      teardown: async () => {},
    },
    {
      name: "redis",
      config: (prefix) => ({ url, keyPrefix: prefix ?? uniquePrefix(suite) }),
      setup: async () => {
        const r = await testRedis();
        url = r.url;
        close = r.close;
      },
      teardown: () => close(),
    },
  ];
}
