import { describe, expect, it } from "vitest";
import {
  MAX_PREFETCH,
  PREFETCH,
  SLOW_ATTEMPT_MS,
  WorkerRegistry,
} from "../../../src/agents/distributor/worker-registry.js";
import { WORKER_BACKLOG_PER_SLOT } from "../../../src/agents/protocol.js";

/**
 * A worker's room (WorkerRegistry.free): PREFETCH x its capacity, less the attempts it holds.
 * An attempt whose outcome it reported, and that the distributor is committing, is one it holds
 * no more; one whose commit did not happen holds room again until it is sent again.
 */
describe("a worker's room", () => {
  const flight = (fence: number) => ({ fence, dispatchedAt: 0, confirmed: false });

  it("is given back when the worker reports an outcome, not when it is committed", () => {
    const registry = new WorkerRegistry(2);
    const w = registry.upsert("w1", { capacity: 2 });
    for (let i = 0; i < 4; i++) w.inFlight.set(`t${i}`, flight(1));
    expect(registry.free(w)).toBe(PREFETCH * 2 - 4);
    w.inFlight.setReported("t0", 1, true);
    w.inFlight.setReported("t0", 1, true); // once only
    w.inFlight.setReported("t1", 7, true); // not this attempt's fence: nothing
    w.inFlight.setReported("nope", 1, true);
    expect(w.inFlight.reported).toBe(1);
    expect(registry.free(w)).toBe(PREFETCH * 2 - 3);
    // Committed: it leaves the map, and the count with it.
    w.inFlight.delete("t0");
    expect(w.inFlight.reported).toBe(0);
    expect(registry.free(w)).toBe(PREFETCH * 2 - 3);
  });

  it("is taken again by a reported attempt whose commit did not happen", () => {
    const registry = new WorkerRegistry(1);
    const w = registry.upsert("w1", { capacity: 1 });
    w.inFlight.set("a", flight(3));
    w.inFlight.setReported("a", 3, true);
    expect(registry.free(w)).toBe(PREFETCH);
    w.inFlight.setReported("a", 3, false);
    w.inFlight.setReported("a", 3, false); // once only
    expect(w.inFlight.reported).toBe(0);
    expect(registry.free(w)).toBe(PREFETCH - 1);
  });

  it("keeps its count when an attempt is replaced, taken back or all are dropped", () => {
    const registry = new WorkerRegistry(4);
    const w = registry.upsert("w1", { capacity: 4 });
    w.inFlight.set("a", flight(1));
    w.inFlight.set("b", flight(1));
    w.inFlight.setReported("a", 1, true);
    w.inFlight.setReported("b", 1, true);
    // Dispatched again under a new fence (taken back, sent again): not reported any more.
    w.inFlight.set("a", flight(2));
    expect(w.inFlight.reported).toBe(1);
    w.inFlight.clear(); // the worker died: everything taken back
    expect(w.inFlight.reported).toBe(0);
    expect(registry.free(w)).toBe(PREFETCH * 4);
    w.status = "dead";
    expect(registry.free(w)).toBe(0);
  });
});

/**
 * A worker's room adapts (WorkerRegistry.reported): it doubles while the worker is left holding
 * less than its concurrency with tasks waiting at the distributor (its attempts come back faster
 * than new ones reach it), up to MAX_PREFETCH, and goes back to PREFETCH once an attempt took
 * SLOW_ATTEMPT_MS or more from dispatch to outcome.
 */
describe("a worker's adaptive room", () => {
  const now = () => performance.now();

  it("doubles while the worker runs dry with tasks waiting, up to MAX_PREFETCH", () => {
    const registry = new WorkerRegistry(4);
    const w = registry.upsert("w1", { capacity: 4 });
    expect(w.prefetch).toBe(PREFETCH);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      registry.reported(w, now(), true);
      seen.push(w.prefetch);
    }
    expect(seen).toEqual(Array(6).fill(MAX_PREFETCH));
    // Never more than any worker queues (it refuses the rest as "overloaded").
    expect(MAX_PREFETCH).toBe(WORKER_BACKLOG_PER_SLOT);
    expect(registry.free(w)).toBe(MAX_PREFETCH * 4);
  });

  it("stays as it is with no task waiting, or while the worker still holds its concurrency", () => {
    const registry = new WorkerRegistry(2);
    const w = registry.upsert("w1", { capacity: 2 });
    registry.reported(w, now(), false); // nothing waits at the distributor
    expect(w.prefetch).toBe(PREFETCH);
    w.inFlight.set("a", { fence: 1, dispatchedAt: now(), confirmed: false });
    w.inFlight.set("b", { fence: 1, dispatchedAt: now(), confirmed: false });
    registry.reported(w, now(), true); // it holds two, its concurrency: it is not idle
    expect(w.prefetch).toBe(PREFETCH);
    w.inFlight.setReported("b", 1, true); // one reported: it holds one of two
    registry.reported(w, now(), true);
    expect(w.prefetch).toBe(Math.min(PREFETCH * 2, MAX_PREFETCH));
  });

  it("goes back to PREFETCH after an attempt that took SLOW_ATTEMPT_MS", () => {
    const registry = new WorkerRegistry(1);
    const w = registry.upsert("w1", { capacity: 1 });
    registry.reported(w, now(), true);
    registry.reported(w, now(), true);
    expect(w.prefetch).toBeGreaterThan(PREFETCH);
    registry.reported(w, now() - SLOW_ATTEMPT_MS - 1, true);
    expect(w.prefetch).toBe(PREFETCH);
    registry.reported(w, now() - SLOW_ATTEMPT_MS - 1, false); // slow, nothing waiting: still back
    expect(w.prefetch).toBe(PREFETCH);
  });
});
