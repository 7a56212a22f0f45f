import { validate } from "@langchain/langgraph-checkpoint-validation";
import * as vitest from "vitest";
import { RedisClient, StoreCheckpointSaver } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * LangGraph's own checkpointer suite (@langchain/langgraph-checkpoint-validation), unchanged,
 * against StoreCheckpointSaver on memory://, a real Redis and a 3-master Redis Cluster. Every
 * checkpointer the suite asks for gets a client of its own under a fresh key prefix, so no
 * saver sees another's threads (the suite lists across threads).
 */

/**
 * The one case not taken, skipped as the suite skips it for LangGraph's MemorySaver: storing
 * only the channels a put's newVersions names. Triad's checkpoints mostly reach the store as a
 * worker's whole transfers, which carry no newVersions (docs/DESIGN.md, "Checkpoints").
 */
const NOT_TAKEN = "should only store channel_values that have changed (based on newVersions)";
const it = new Proxy(vitest.it, {
  apply: (target, self, [name, ...rest]: Parameters<typeof vitest.it>) =>
    name === NOT_TAKEN
      ? vitest.it.skip(`[because Triad stores whole checkpoints] ${name}`, ...rest)
      : Reflect.apply(target, self, [name, ...rest]),
});

// The suite calls describe/it/expect as globals (Jest style); this project does not turn them on.
Object.assign(globalThis, {
  describe: vitest.describe,
  it,
  expect: vitest.expect,
  beforeAll: vitest.beforeAll,
  afterAll: vitest.afterAll,
  beforeEach: vitest.beforeEach,
  afterEach: vitest.afterEach,
});

const clients = new WeakMap<StoreCheckpointSaver, RedisClient>();

for (const engine of testEngines("ckpt-suite", { cluster: true })) {
  vitest.describe(engine.name, () => {
    validate({
      checkpointerName: `StoreCheckpointSaver on ${engine.name}`,
      beforeAllTimeout: 60_000,
      beforeAll: () => engine.setup(),
      afterAll: () => engine.teardown(),
      createCheckpointer: async () => {
        const client = new RedisClient(engine.config());
        if (!(await client.connect())) throw new Error(`cannot reach the ${engine.name} store`);
        const saver = new StoreCheckpointSaver(client);
        clients.set(saver, client);
        return saver;
      },
      destroyCheckpointer: async (saver) => {
        await clients.get(saver)?.disconnect();
      },
    });
  });
}
