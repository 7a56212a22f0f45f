import { describe, expect, it } from "vitest";
import { ReplayCache } from "../../../src/core/messaging/replay-cache.js";

const id = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, "0")}`;

function cacheWithClock(capacity: number, ttlMs: number) {
  const clock = { t: 0 };
  const cache = new ReplayCache({ capacity, ttlMs, now: () => clock.t });
  return { cache, clock };
}

describe("ReplayCache", () => {
  it("remembers a request id per sender", () => {
    const { cache } = cacheWithClock(10, 1000);
    cache.remember("a", id(1), 0);
    expect(cache.has("a", id(1))).toBe(true);
    expect(cache.has("b", id(1))).toBe(false);
    expect(cache.has("a", id(2))).toBe(false);
  });

  it("forgets an id after its time to live, and no sooner", () => {
    const { cache, clock } = cacheWithClock(10, 1000);
    cache.remember("a", id(1), 0);
    clock.t = 999;
    expect(cache.has("a", id(1))).toBe(true);
    clock.t = 1000;
    expect(cache.has("a", id(1))).toBe(false);
    cache.remember("a", id(2), 0);
    expect(cache.size).toBe(1);
  });

  it("never holds more than its capacity", () => {
    const { cache } = cacheWithClock(100, 1_000_000);
    for (let i = 0; i < 1000; i++) cache.remember(`s${i % 7}`, id(i), i);
    expect(cache.size).toBe(100);
  });

  it("raises the evicted sender's horizon so a forgotten id cannot be replayed", () => {
    const { cache } = cacheWithClock(2, 1_000_000);
    cache.remember("a", id(1), 100);
    cache.remember("b", id(2), 150);
    cache.remember("a", id(3), 200); // evicts a/id(1), stamped 100
    expect(cache.has("a", id(1))).toBe(false);
    expect(cache.beyondHorizon("a", 100)).toBe(true);
    expect(cache.beyondHorizon("a", 99)).toBe(true);
    expect(cache.beyondHorizon("a", 101)).toBe(false);
    // Other senders keep their whole window.
    expect(cache.beyondHorizon("b", 50)).toBe(false);
  });

  it("folds horizons into a shared one when too many senders have one", () => {
    const clock = { t: 0 };
    const cache = new ReplayCache({ capacity: 1, ttlMs: 1_000_000, maxSenders: 2, now: () => clock.t });
    cache.remember("a", id(1), 10);
    cache.remember("b", id(2), 20); // horizon a=10
    cache.remember("c", id(3), 30); // horizon b=20
    cache.remember("d", id(4), 40); // horizon c=30, a folded into shared (10)
    expect(cache.beyondHorizon("a", 10)).toBe(true);
    expect(cache.beyondHorizon("z", 10)).toBe(true);
    expect(cache.beyondHorizon("z", 11)).toBe(false);
    expect(cache.beyondHorizon("c", 30)).toBe(true);
  });

  it("admit says new once, then duplicate, and stale past a horizon", () => {
    const { cache } = cacheWithClock(1, 1_000_000);
    expect(cache.admit("a", id(1), 100)).toBe("new");
    expect(cache.admit("a", id(1), 100)).toBe("duplicate");
    expect(cache.admit("a", id(2), 200)).toBe("new"); // evicts id(1): horizon of a is 100
    expect(cache.admit("a", id(1), 100)).toBe("stale");
    expect(cache.admit("a", id(3), 150)).toBe("new");
  });

  it("under long churn stays within capacity and takes every fresh id as new", () => {
    const { cache, clock } = cacheWithClock(1000, 50);
    const outcomes = { new: 0, duplicate: 0, stale: 0 };
    for (let i = 0; i < 50_000; i++) {
      clock.t = i / 100; // expiry and eviction both happen along the way
      outcomes[cache.admit(`s${i % 3}`, id(i), i)] += 1;
    }
    expect(outcomes).toEqual({ new: 50_000, duplicate: 0, stale: 0 });
    expect(cache.size).toBeLessThanOrEqual(1000);
    expect(cache.admit("s0", id(49_998), 0)).toBe("duplicate");
  });
});
