import { afterAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { TriadProcess } from "../helpers/processes.js";
import { RedisServer } from "../helpers/redis-server.js";

/**
 * SIGTERM ends a tier process within its --shutdown-timeout (SPEC, CLI) even when its Redis is
 * gone: what still holds the event loop once the shutdown has run or timed out (the store's
 * reconnect attempts) must not keep it. The test kills a redis-server of its own, so it never
 * runs against REDIS_URL.
 */
describe.skipIf(Boolean(process.env.REDIS_URL))("SIGTERM with the store gone", () => {
  const procs: TriadProcess[] = [];
  const servers: RedisServer[] = [];
  afterAll(async () => {
    for (const p of procs) await p.kill();
    for (const s of servers) await s.destroy();
  });

  it.each(["coordinator", "distributor"] as const)(
    "triad %s exits 0 within its shutdown timeout after its Redis died",
    async (tier) => {
      const redis = await RedisServer.start();
      servers.push(redis);
      const env = { TRIAD_SECRET: "shutdown-store-gone-secret-0123", TRIAD_LOG_LEVEL: "warn" };
      const port = await freePort();
      const coordinator = new TriadProcess(
        [
          ...["coordinator", "--id", `c-gone-${tier}`, "--redis", redis.url, "--port", String(port)],
          ...["--shutdown-timeout", "3000"],
        ],
        env,
      );
      procs.push(coordinator);
      await coordinator.waitFor(/^ready coordinator /m);
      let target = coordinator;
      if (tier === "distributor") {
        target = new TriadProcess(
          [
            ...["distributor", "--id", "d-gone", "--redis", redis.url, "--port", String(await freePort())],
            ...["--coordinator", `http://127.0.0.1:${port}`, "--shutdown-timeout", "3000"],
          ],
          env,
        );
        procs.push(target);
        await target.waitFor(/^ready distributor /m);
      }
      await redis.destroy();
      await new Promise((r) => setTimeout(r, 500)); // its connection lost, reconnecting
      const asked = performance.now();
      target.signal("SIGTERM");
      const { code, signal } = await target.exit(15_000);
      expect(signal).toBeNull();
      expect(code).toBe(0);
      // Within its --shutdown-timeout (3 s), the second the CLI then gives what is left, and slack.
      expect(performance.now() - asked).toBeLessThan(9_000);
    },
    40_000,
  );
});
