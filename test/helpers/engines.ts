import { afterAll, afterEach, beforeAll } from "vitest";
import type { RedisConfig } from "../../src/index.js";
import { TestCluster } from "./cluster.js";
import { testRedisCluster } from "./redis-cluster.js";
import { testRedis, uniquePrefix } from "./redis-server.js";

/**
 * The store engines a suite runs against unchanged: the embedded memory:// engine, a real
 * redis-server of the suite's own (or REDIS_URL), and with `{ cluster: true }` a 3-master
 * Redis Cluster of its own on loopback (or REDIS_CLUSTER_URL). Call setup() in beforeAll and
 * teardown() in afterAll; config() gives a fresh key prefix each time.
 */
export type TestEngine = {
  name: "memory" | "redis" | "cluster";
  config: (prefix?: string) => RedisConfig;
  setup: () => Promise<void>;
  teardown: () => Promise<void>;
};

export function testEngines(suite: string, options: { cluster?: boolean } = {}): TestEngine[] {
  let url = "";
  let close: () => Promise<void> = async () => {};
  const engines: TestEngine[] = [
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
  if (options.cluster) {
    let clusterUrl = "";
    let closeCluster: () => Promise<void> = async () => {};
    engines.push({
      name: "cluster",
      config: (prefix) => ({ url: clusterUrl, keyPrefix: prefix ?? uniquePrefix(suite) }),
      setup: async () => {
        const c = await testRedisCluster();
        clusterUrl = c.url;
        closeCluster = c.close;
      },
      teardown: () => closeCluster(),
    });
  }
  return engines;
}

/**
 * The scaffolding of a suite that runs a TestCluster per test on `engine` (call it inside the
 * describe.each): the engine is set up once, the cluster a test started is stopped after it,
 * the engine torn down at the end. The function returned starts the test's cluster.
 */
export function clusterPerTest(engine: TestEngine): (options?: TestCluster["options"]) => TestCluster {
  let current: TestCluster | undefined;
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    await current?.stop();
    current = undefined;
  });
  afterAll(() => engine.teardown());
  return (options) => {
    current = new TestCluster(engine.config(), options);
    return current;
  };
}

/**
 * The scaffolding of a suite whose tests start agents or clients of their own on `engine` (call
 * it inside the describe.each): the engine is set up once and torn down at the end, and what a
 * test pushes on the array returned (a stop or cleanup per thing started, as
 * two-coordinators.ts's helpers push theirs) runs after it, last pushed first, a failing one not
 * keeping the others from running.
 */
export function stopsPerTest(engine: TestEngine): Array<() => Promise<unknown>> {
  const stops: Array<() => Promise<unknown>> = [];
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  });
  afterAll(() => engine.teardown());
  return stops;
}
