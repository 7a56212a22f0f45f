import { describe, expect, it, vi } from "vitest";
import {
  MAX_PREFETCH,
  PREFETCH,
  SLOW_ATTEMPT_MS,
  WorkerRegistry,
} from "../../../src/agents/distributor/worker-registry.js";
import { parseAgentPayload } from "../../../src/agents/parse-payload.js";
import {
  LEGACY_BACKLOG_PER_SLOT,
  WORKER_BACKLOG_PER_SLOT,
  type WorkerHeartbeat,
} from "../../../src/agents/protocol.js";

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

  const heartbeat = (backlog?: number): WorkerHeartbeat => ({
    kind: "worker_status",
    status: "idle",
    load: 0,
    capacity: 4,
    url: null,
    running: [],
    done: 0,
    task_types: [],
    ...(backlog === undefined ? {} : { backlog_per_slot: backlog }),
  });

  it("doubles while the worker runs dry with tasks waiting, up to what the worker says it queues", () => {
    const registry = new WorkerRegistry(4);
    const w = registry.upsert("w1", { capacity: 4 });
    registry.heartbeat("w1", heartbeat(WORKER_BACKLOG_PER_SLOT));
    expect(w.prefetch).toBe(PREFETCH);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      registry.reported(w, now(), true);
      seen.push(w.prefetch);
    }
    expect(seen).toEqual([4, 8, 8, 8, 8, 8]);
    // Never more than the worker queues (it refuses the rest as "overloaded").
    expect(MAX_PREFETCH).toBe(WORKER_BACKLOG_PER_SLOT);
    expect(registry.free(w)).toBe(MAX_PREFETCH * 4);
  });

  it("stops at four for a worker that does not say what it queues (an older Triad), and never passes MAX_PREFETCH", () => {
    const registry = new WorkerRegistry(4);
    const older = registry.upsert("old", { capacity: 4 });
    for (let i = 0; i < 4; i++) registry.reported(older, now(), true); // not heard from yet
    expect(older.prefetch).toBe(LEGACY_BACKLOG_PER_SLOT);
    registry.heartbeat("old", heartbeat());
    for (let i = 0; i < 4; i++) registry.reported(older, now(), true);
    expect(older.prefetch).toBe(LEGACY_BACKLOG_PER_SLOT);
    expect(registry.free(older)).toBe(LEGACY_BACKLOG_PER_SLOT * 4);
    // A worker that says it queues more than this distributor lets any hold: MAX_PREFETCH.
    const newer = registry.upsert("new", { capacity: 4 });
    registry.heartbeat("new", heartbeat(64));
    for (let i = 0; i < 6; i++) registry.reported(newer, now(), true);
    expect(newer.prefetch).toBe(MAX_PREFETCH);
    // One that says less brings a room already grown back within it.
    registry.heartbeat("new", heartbeat(3));
    expect(newer.prefetch).toBe(3);
    expect(registry.free(newer)).toBe(12);
  });

  it("reads backlog_per_slot off a heartbeat; a malformed one counts as not said", () => {
    const parse = (extra: Record<string, unknown>) => {
      const parsed = parseAgentPayload({ ...heartbeat(), ...extra });
      if (!parsed.ok) throw new Error(parsed.error);
      return (parsed.value as WorkerHeartbeat).backlog_per_slot;
    };
    expect(parse({ backlog_per_slot: 8 })).toBe(8);
    expect(parse({})).toBeUndefined();
    expect(parse({ backlog_per_slot: 0 })).toBeUndefined();
    expect(parse({ backlog_per_slot: "8" })).toBeUndefined();
    expect(parse({ backlog_per_slot: 2.5 })).toBeUndefined();
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

describe("WorkerRegistry.prune", () => {
  it("forgets a worker dead past the retention only once it holds no attempt", async () => {
    const registry = new WorkerRegistry(4);
    const idle = registry.upsert("idle", { status: "idle" });
    const holding = registry.upsert("holding", { status: "idle" });
    holding.inFlight.set("t1", {
      fence: 1,
      dispatchedAt: performance.now(),
      confirmed: true,
      reported: true,
    });
    idle.lastSeen = holding.lastSeen = performance.now() - 1000;
    expect(registry.expire(500).map((w) => w.id)).toEqual(["idle", "holding"]);
    registry.prune(60_000);
    expect(registry.all().map((w) => w.id)).toEqual(["idle", "holding"]); // dead since now, listed as dead
    await new Promise((r) => setTimeout(r, 20));
    registry.prune(10);
    expect(registry.all().map((w) => w.id)).toEqual(["holding"]);
  });
});

/**
 * A second process under a worker's id is taken only once the monitor has declared the first
 * dead (after crediting the distributor's own stalls), never on a clock read when its heartbeat
 * arrives: a distributor that did not run for a while (a loaded host) read the second's
 * heartbeat before the first's queued ones, took the second, and both ran tasks.
 */
describe("a second process under one worker id", () => {
  it("is not taken after the distributor itself stalled; it is once the first is declared dead", () => {
    let clock = 10_000;
    const spy = vi.spyOn(performance, "now").mockImplementation(() => clock);
    try {
      const timeoutMs = 800;
      const registry = new WorkerRegistry(4);
      registry.upsert("w1", { url: "http://first", status: "idle" });
      expect(registry.sameProcess("w1", "first")).toBe(true);
      expect(registry.sameProcess("w1", "second")).toBe(false);
      // The distributor does not run for 2 s; the second's heartbeat is read before its monitor ticks.
      clock += 2000;
      expect(registry.sameProcess("w1", "second")).toBe(false);
      // The monitor credits the stall: the first is not silent, not dead, still the worker.
      registry.credit(2000);
      expect(registry.expire(timeoutMs)).toEqual([]);
      expect(registry.sameProcess("w1", "second")).toBe(false);
      expect(registry.sameProcess("w1", "first")).toBe(true);
      // The first really falls silent: declared dead, the second follows it (a restart).
      clock += timeoutMs + 1;
      expect(registry.expire(timeoutMs).map((w) => w.id)).toEqual(["w1"]);
      expect(registry.sameProcess("w1", "second")).toBe(true);
    } finally {
      spy.mockRestore();
    }
  });
});
