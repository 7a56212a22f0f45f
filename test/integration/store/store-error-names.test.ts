import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisClient } from "../../../src/index.js";
import { RedisServer } from "../../helpers/redis-server.js";

/**
 * A store error says which command, or which script, failed: a log of one nobody handled
 * ("unhandled rejection: the process ends", whose stack ends in the engine) then names the call.
 * A replica refuses writes (READONLY, as a master demoted in a failover does): unavailability.
 */
describe("the store's errors name what failed (Redis)", () => {
  let master: RedisServer;
  let replica: RedisServer;
  let client: RedisClient;

  beforeAll(async () => {
    master = await RedisServer.start();
    replica = await RedisServer.startReplicaOf(master);
    client = new RedisClient({ url: replica.url, keyPrefix: "error-names:" });
    expect(await client.connect()).toBe(true);
  }, 60_000);

  afterAll(async () => {
    await client?.disconnect();
    await replica?.destroy();
    await master?.destroy();
  });

  it("a command by its name, a script by its own", async () => {
    await expect(client.set("k", 1)).rejects.toMatchObject({
      code: "ERR_STORE_UNAVAILABLE",
      message: expect.stringMatching(/^the store is unavailable \(READONLY .*; SET\); try again in 1 s$/),
    });
    await expect(client.acquireLease("lease", "me", 10)).rejects.toMatchObject({
      code: "ERR_STORE_UNAVAILABLE",
      message: expect.stringMatching(/; script acquire-lease\); try again in 1 s$/),
    });
  });
});
