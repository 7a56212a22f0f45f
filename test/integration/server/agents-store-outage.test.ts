import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CoordinatorAgent } from "../../../src/index.js";
import { agentList } from "../../../src/server/coordinator-api.js";
import { RedisServer } from "../../helpers/redis-server.js";
import { until } from "../../helpers/wait.js";

/**
 * GET /agents while the coordinator's redis-server is stopped: the coordinator's own entry says
 * since when it cannot reach its store (what `triad status` exits 1 on), and says nothing once
 * the store answers again.
 */
describe("GET /agents during a store outage", () => {
  let redis: RedisServer;
  let coordinator: CoordinatorAgent;

  beforeAll(async () => {
    redis = await RedisServer.start();
    coordinator = new CoordinatorAgent({
      agentId: `c-${randomUUID().slice(0, 6)}`,
      redis: { url: redis.url, keyPrefix: `agents-outage-${randomUUID().slice(0, 6)}:` },
    });
    await coordinator.initialize();
  }, 60_000);

  afterAll(async () => {
    await coordinator?.cleanup();
    await redis?.destroy();
  }, 60_000);

  const self = () => agentList(coordinator)[0]!;

  it("lists the coordinator with store_unreachable_since while its store is down, and without it after", async () => {
    expect(self().tier).toBe("coordinator");
    expect(self()).not.toHaveProperty("store_unreachable_since");
    const before = Date.now();
    await redis.stop();
    await until(
      "the coordinator finds its store gone",
      () => self().store_unreachable_since !== undefined,
      30_000,
    );
    const since = Date.parse(String(self().store_unreachable_since));
    expect(since).toBeGreaterThanOrEqual(before - 1_000);
    expect(since).toBeLessThanOrEqual(Date.now());
    await redis.startAgain();
    await until(
      "the coordinator finds its store back",
      () => self().store_unreachable_since === undefined,
      30_000,
    );
  }, 120_000);
});
