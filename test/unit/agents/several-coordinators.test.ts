import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ownershipTiming } from "../../../src/agents/coordinator/coordinator-cluster.js";
import { CoordinatorPeers, type CoordinatorView } from "../../../src/agents/coordinator/coordinator-peers.js";
import { ShardLeases } from "../../../src/agents/coordinator/shard-leases.js";
import { CoordinatorFailover } from "../../../src/agents/distributor/coordinator-failover.js";
import { DEFAULT_TIMING } from "../../../src/agents/timing.js";
import { ApiClient, PASS_OVER_MS } from "../../../src/cli/api-client.js";
import { RedisClient } from "../../../src/index.js";

/** The pieces of several coordinators that need no store: shares, timing, failover of distributors and the CLI. */

const leasesOf = (id: string) =>
  new ShardLeases({
    coordinatorId: id,
    store: {} as RedisClient,
    shards: 16,
    ttlMs: 1000,
    members: () => [],
  });

describe("several coordinators, without a store", () => {
  let server: Server | undefined;
  afterEach(async () => {
    const open = server;
    server = undefined;
    if (open) await new Promise((r) => open.close(r));
  });

  it("the 16 shards are shared evenly, the remainder to the first ids in sorted order, every shard once", () => {
    const members = ["c2", "c3", "c1"];
    const shares = members.map((id) => leasesOf(id).share(members));
    expect(shares).toEqual([5, 5, 6]);
    expect(leasesOf("c1").share([])).toBe(16); // alone: every shard
    for (const n of [1, 2, 3, 5, 7, 16, 20]) {
      const ids = Array.from({ length: n }, (_, i) => `c${i}`);
      const total = ids.reduce((sum, id) => sum + leasesOf(id).share(ids), 0);
      expect(total).toBe(16);
    }
  });

  it("with the default timing a dead coordinator's shards are free within the heartbeat timeout", () => {
    const t = ownershipTiming(DEFAULT_TIMING);
    expect(t).toEqual({ tickMs: 500, leaseTtlMs: 2000, viewTtlMs: 2250 });
    // Free at most a lease TTL after its last renewal, seen gone (and taken) within a tick more.
    expect(t.viewTtlMs + t.tickMs).toBeLessThanOrEqual(DEFAULT_TIMING.heartbeatTimeoutMs);
    expect(t.leaseTtlMs / t.tickMs).toBeGreaterThanOrEqual(4); // renewed four times per life
  });

  it("a distributor moves to the next coordinator when a heartbeat fails or hangs, round the list", async () => {
    const failover = new CoordinatorFailover([{ id: "c1" }, { id: "c2" }], 50);
    expect(await failover.beat(async () => {})).toBe(true);
    expect(failover.current.id).toBe("c1");
    expect(await failover.beat(() => new Promise(() => {}))).toBe(false); // hangs past its patience
    expect(failover.current.id).toBe("c2");
    expect(await failover.beat(() => Promise.reject(new Error("refused")))).toBe(false);
    expect(failover.current.id).toBe("c1");
    failover.add({ id: "c3" });
    failover.add({ id: "c3" });
    expect(failover.coordinators.map((c) => c.id)).toEqual(["c1", "c2", "c3"]);
    const alone = new CoordinatorFailover([{ id: "c1" }], 50);
    expect(await alone.beat(() => Promise.reject(new Error("refused")))).toBe(false);
    expect(alone.current.id).toBe("c1");
  });

  it("a coordinator killed without leaving is dropped from the members once its view expires, and from the registry after 20 view TTLs", async () => {
    // The monotonic clock (view expiry in the store, the registry's forgetting) moves only when
    // the test moves it: a stall of the process between b's tick and a's read cannot expire a
    // 20 ms view early. Timers stay real (the in-process store answers on setImmediate).
    vi.useFakeTimers({ toFake: ["performance"] });
    const store = new RedisClient({ url: `memory://peers-${process.pid}`, keyPrefix: `p${Date.now()}:` });
    await store.connect();
    const view = (id: string): CoordinatorView => ({
      id,
      url: null,
      started_at: "",
      shards: [],
      stats: {},
      distributors: [],
    });
    const peersOf = (id: string) =>
      new CoordinatorPeers({
        coordinatorId: id,
        store,
        ttlMs: 20,
        view: () => view(id),
        ended: () => {},
        unplaced: () => {},
        watched: () => {},
      });
    const a = peersOf("a");
    const b = peersOf("b");
    try {
      await b.tick();
      await a.tick();
      expect(a.members()).toEqual(["a", "b"]);
      vi.advanceTimersByTime(19); // b stops ticking: its view lives out its 20 ms
      await a.tick();
      expect(a.members()).toEqual(["a", "b"]);
      vi.advanceTimersByTime(21); // and expires
      await a.tick();
      expect(a.members()).toEqual(["a"]);
      expect(Object.keys((await store.get("coordinators")) as object).sort()).toEqual(["a", "b"]);
      vi.advanceTimersByTime(20 * 20 - 20); // still listed a little before 20 view TTLs
      await a.tick();
      expect(Object.keys((await store.get("coordinators")) as object).sort()).toEqual(["a", "b"]);
      vi.advanceTimersByTime(20 + 20);
      await a.tick();
      expect(Object.keys((await store.get("coordinators")) as object)).toEqual(["a"]);
      await b.tick(); // woken: it registers again
      expect(Object.keys((await store.get("coordinators")) as object).sort()).toEqual(["a", "b"]);
    } finally {
      vi.useRealTimers();
      await store.disconnect();
    }
  });

  it("the CLI sends a request to the next coordinator when one cannot be reached, and stays there", async () => {
    let hits = 0;
    server = createServer((_req, res) => {
      hits++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const live = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const dead = "http://127.0.0.1:1"; // nothing listens on port 1
    const api = new ApiClient(`${dead}, ${live}`);
    expect(await api.request("GET", "/agents")).toEqual({ ok: true });
    expect(api.baseUrl).toBe(live);
    expect(await api.request("GET", "/agents")).toEqual({ ok: true });
    expect(hits).toBe(2);
    await expect(new ApiClient(`${dead},http://127.0.0.1:2`).request("GET", "/agents")).rejects.toThrow(
      /cannot reach any coordinator \(http:\/\/127\.0\.0\.1:1: .*; http:\/\/127\.0\.0\.1:2: /,
    );
  });

  it("the CLI passes over a coordinator that takes the connection and never answers (frozen) within PASS_OVER_MS", async () => {
    // A SIGSTOPped process: the kernel completes the connection, nothing ever answers.
    const frozen = createServer(() => {});
    await new Promise<void>((r) => frozen.listen(0, "127.0.0.1", r));
    server = createServer((_req, res) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true }));
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const url = (s: Server) => `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    try {
      const api = new ApiClient(`${url(frozen)},${url(server)}`);
      const started = performance.now();
      expect(await api.request("GET", "/agents")).toEqual({ ok: true });
      // Passed over after PASS_OVER_MS, not after the request's 30 s timeout.
      expect(performance.now() - started).toBeGreaterThanOrEqual(PASS_OVER_MS - 50);
      expect(performance.now() - started).toBeLessThan(PASS_OVER_MS + 5_000);
      expect(api.baseUrl).toBe(url(server));
      // The last one left gets the whole timeout: a long poll or a slow answer is not cut short.
      const alone = new ApiClient(url(frozen));
      await expect(alone.request("GET", "/agents", undefined, 300)).rejects.toThrow(
        /cannot reach the coordinator/,
      );
    } finally {
      frozen.closeAllConnections();
      await new Promise((r) => frozen.close(r));
    }
  });
});
