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

// The suite calls describe/it/expect as globals (Jest style); this project does not turn them on.
Object.assign(globalThis, {
  describe: vitest.describe,
  it: vitest.it,
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
