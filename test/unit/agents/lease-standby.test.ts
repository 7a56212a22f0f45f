import { afterEach, describe, expect, it } from "vitest";
import { LeaseStandby } from "../../../src/agents/distributor/lease-standby.js";
import { silentLogger } from "../../../src/core/logger.js";
import { RedisClient } from "../../../src/core/store/index.js";
import { until } from "../../helpers/wait.js";

/**
 * LeaseStandby tells a second process under a live distributor's id (the lease renewed: hold
 * every heartbeat) from a restart after a crash (the previous run's lease, never renewed, runs
 * out: heartbeat on, `recovering`), on the embedded store.
 */
describe("LeaseStandby", () => {
  const stores: RedisClient[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.disconnect();
  });

  async function store(name: string): Promise<RedisClient> {
    const s = new RedisClient({ url: `memory://lease-standby-${name}-${process.pid}-${Date.now()}` });
    stores.push(s);
    await s.connect();
    return s;
  }

  it("holds its heartbeats once it sees the holder renew the lease, and resumes when it takes it", async () => {
    const s = await store("live");
    const token = await s.acquireLeaseToken("shared-state:d1", "d1", 30);
    expect(token).not.toBeNull();
    const standby = new LeaseStandby(s, "shared-state:d1", silentLogger);
    expect(await standby.next(false)).toBe("send"); // nothing known of the holder yet
    const first = await s.getLease("shared-state:d1");
    await until("the lease's expiry has moved on", async () => {
      await s.renewLease("shared-state:d1", "d1", 30, token!);
      return (
        Date.parse((await s.getLease("shared-state:d1"))!.expires_at) > Date.parse(first!.expires_at) + 20
      );
    });
    expect(await standby.next(false)).toBe("hold");
    expect(standby.standby).toBe(true);
    await standby.whenStandby;
    expect(await standby.next(false)).toBe("hold");
    expect(await standby.next(true)).toBe("resume"); // it took the lease
    await standby.whenOwned;
    expect(standby.standby).toBe(false);
    expect(await standby.next(false)).toBe("send"); // a lease lost later: a recovery, heard as before
  });

  it("a holder that lost its lease to a live process (frozen past it, its standby took over) waits as a standby again", async () => {
    const s = await store("woken");
    const standby = new LeaseStandby(s, "shared-state:d1", silentLogger);
    expect(await standby.next(true)).toBe("send"); // a plain start: it holds the lease
    // It froze; its lease ran out and another process under the id took and renews it.
    const token = await s.acquireLeaseToken("shared-state:d1", "d1", 30);
    expect(token).not.toBeNull();
    expect(await standby.next(false)).toBe("send"); // one read: no renewal seen yet
    const first = await s.getLease("shared-state:d1");
    await until("the lease's expiry has moved on", async () => {
      await s.renewLease("shared-state:d1", "d1", 30, token!);
      return (
        Date.parse((await s.getLease("shared-state:d1"))!.expires_at) > Date.parse(first!.expires_at) + 20
      );
    });
    expect(await standby.next(false)).toBe("hold");
    expect(standby.standby).toBe(true); // GET /health answers 503 standby
    expect(await standby.next(false)).toBe("hold");
    expect(await standby.next(true)).toBe("resume"); // the new holder died: it takes the lease again
    expect(standby.standby).toBe(false);
  });

  it("heartbeats on while the lease of a previous run (not renewed) runs out", async () => {
    const s = await store("crashed");
    await s.acquireLeaseToken("shared-state:d1", "d1", 30);
    const standby = new LeaseStandby(s, "shared-state:d1", silentLogger);
    for (let i = 0; i < 5; i++) expect(await standby.next(false)).toBe("send");
    expect(standby.standby).toBe(false);
  });
});
