import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DispatchQueue } from "../../../src/agents/distributor/dispatch-queue.js";
import { DispatchLimits } from "../../../src/agents/limits/dispatch-limits.js";
import { LimitGate } from "../../../src/agents/limits/limit-gate.js";
import type { LimitStore } from "../../../src/agents/limits/limit-store.js";
import type { TaskDict } from "../../../src/agents/protocol.js";
import { pendingTask } from "../../helpers/task-dict.js";

const LATER = 60_000;
const job = (id: string, priority?: number) =>
  pendingTask(id, { task_type: "job", ...(priority === undefined ? {} : { priority }) });
const ids = (tasks: TaskDict[]) => tasks.map((t) => t.task_id);
/** A gate that limits `job` (and `other`), as the queue sees it. */
const limitsJob = { active: true, isLimited: (t: string) => t === "job" || t === "other" };

describe("DispatchQueue: a limited type's tasks keep their place", () => {
  it("offers them in place; one refused is offered again from its place once its type's wait is over", () => {
    const q = new DispatchQueue();
    q.limitBy(limitsJob);
    for (const [id, p] of [
      ["a", 0],
      ["b", 5],
      ["c", 0],
      ["d", 9],
      ["e", 5],
    ] as const)
      q.push(job(id, p));
    q.push(pendingTask("u")); // an unlimited type
    const now = Date.now();
    expect(ids(q.take(3, now))).toEqual(["d", "b", "e"]);
    expect(q.size).toBe(6); // offered, still queued
    expect(q.isOffered("d")).toBe(true);
    // While they are on offer no other task of the type is offered; the others pass.
    expect(ids(q.take(10, now))).toEqual(["u"]);
    // d starts; b and e are refused: the type waits, and they keep their places.
    const since = q.releases;
    q.delete("d");
    q.putBack("b", now + LATER, since);
    q.putBack("e", now + LATER + 5, since);
    q.push(job("f", 9)); // arrives while the type waits
    expect(q.nextWakeUp(now)).toBe(now + LATER);
    expect(q.take(10, now)).toEqual([]);
    // All five wait for a slot, though two were asked (what GET /limits reports as waiting).
    expect(q.waitingByType(limitsJob.isLimited, now)).toEqual(new Map([["job", 5]]));
    // The wait is over: priority first, then the order they came in.
    expect(ids(q.take(10, now + LATER))).toEqual(["f", "b", "e", "a", "c"]);
  });

  it("lets another type, limited or not, pass a waiting one (no head-of-line blocking)", () => {
    const q = new DispatchQueue();
    q.limitBy(limitsJob);
    q.push(job("j1", 9));
    q.push(pendingTask("o1", { task_type: "other" }));
    q.push(pendingTask("u1"));
    const now = Date.now();
    const since = q.releases;
    expect(ids(q.take(1, now))).toEqual(["j1"]);
    q.putBack("j1", now + LATER, since);
    expect(ids(q.take(10, now))).toEqual(["o1", "u1"]);
    expect(q.has("u1")).toBe(false); // an unlimited task is taken, as without limits
    expect(q.has("o1")).toBe(true);
  });

  it("offers the type's first task at once when one of its slots is freed here", () => {
    const q = new DispatchQueue();
    q.limitBy(limitsJob);
    for (const id of ["a", "b", "c"]) q.push(job(id));
    const now = Date.now();
    let since = q.releases;
    expect(ids(q.take(10, now))).toEqual(["a", "b", "c"]);
    q.delete("a");
    q.putBack("b", now + LATER, since);
    q.putBack("c", now + LATER, since);
    q.freed("job");
    expect(q.nextWakeUp(now)).toBeNull();
    since = q.releases;
    expect(ids(q.take(1, now))).toEqual(["b"]);
    // A slot freed while the slot call was out: the refusal may predate it, so no wait.
    q.freed("job");
    q.putBack("b", now + LATER, since);
    expect(ids(q.take(10, now))).toEqual(["b", "c"]);
  });

  it("keeps a retry's own backoff, and forgets a task deleted while on offer", () => {
    const q = new DispatchQueue();
    q.limitBy(limitsJob);
    const now = Date.now();
    q.push(job("retry"), now + 500);
    q.push(job("fresh"));
    expect(q.waitingByType(limitsJob.isLimited, now)).toEqual(new Map([["job", 1]])); // not the retry yet
    expect(ids(q.take(10, now))).toEqual(["fresh"]);
    expect(q.nextWakeUp(now)).toBe(now + 500);
    q.delete("fresh"); // canceled, moved away
    q.putBack("fresh", now + LATER, q.releases);
    expect(q.has("fresh")).toBe(false);
    expect(ids(q.take(10, now + 500))).toEqual(["retry"]); // and no wait was left behind
  });

  it("never hands out twice a task on offer when its limit is removed meanwhile", () => {
    const q = new DispatchQueue();
    const limits = { active: true, isLimited: (t: string) => t === "job" };
    q.limitBy(limits);
    q.push(job("a"));
    q.push(job("b"));
    expect(ids(q.take(1))).toEqual(["a"]);
    limits.active = false;
    expect(ids(q.take(10))).toEqual(["b"]);
    expect(q.has("b")).toBe(false); // unlimited now: taken
    q.delete("a"); // admitted (as unlimited)
    expect(q.offers).toBe(false);
    expect(q.size).toBe(0);
  });
});

/**
 * The pump's loop over DispatchQueue and DispatchLimits, with a gate that admits `job` by a
 * concurrency and a rate of its own: every task starts in priority order, then submission order.
 */
describe("DispatchLimits: the first of a type in queue order gets the slot", () => {
  function rig(o: { concurrency: number; perTick: number }) {
    const q = new DispatchQueue();
    const started: string[] = [];
    let held = 0;
    let tokens = o.perTick;
    let clock = Date.now();
    const gate = {
      active: true,
      isLimited: (t: string) => t === "job",
      admit: async <P extends { task: { task_id: string; task_type: string } }>(plan: P[]) => {
        const admitted: P[] = [];
        const refused: Array<{ item: P; notBefore: number }> = [];
        for (const p of plan) {
          if (held >= o.concurrency) refused.push({ item: p, notBefore: clock + 100 });
          else if (tokens === 0) refused.push({ item: p, notBefore: clock + 40 });
          else {
            held++;
            tokens--;
            admitted.push(p);
          }
        }
        return { admitted, refused };
      },
      release: () => Number.isFinite(o.concurrency), // a slot of a concurrency limit freed
      countWaitingWith: () => {},
    };
    const limits = new DispatchLimits(gate as unknown as LimitGate, q, {
      dispatch: async (plan: Array<{ task: TaskDict }>) => {
        for (const p of plan) started.push(p.task.task_id);
      },
      refused: () => {},
    });
    return {
      q,
      started,
      /** One pump of `room`, `ms` after the last. */
      pump: (room: number, ms = 0) => {
        clock += ms;
        return limits.dispatch(q.take(room, clock).map((task) => ({ task })));
      },
      end: (id: string) => {
        held--;
        limits.release(id, 1, "job");
      },
      tick: () => {
        tokens = o.perTick;
      },
    };
  }

  const arrivals = [
    ["a", 0],
    ["b", 5],
    ["c", 0],
    ["d", 9],
    ["e", 5],
    ["f", 0],
    ["g", 9],
    ["h", 1],
  ] as const;

  it("under a concurrency of 1, arrivals between refusals", async () => {
    const r = rig({ concurrency: 1, perTick: Number.POSITIVE_INFINITY });
    r.q.push(job("blocker"));
    await r.pump(4);
    for (const [id, p] of arrivals) {
      r.q.push(job(id, p));
      await r.pump(4, 150); // each refused, its type's wait over by the next pump
    }
    r.end("blocker");
    for (let i = 0; i < arrivals.length; i++) {
      await r.pump(4);
      r.end(r.started.at(-1)!);
    }
    expect(r.started).toEqual(["blocker", "d", "g", "b", "e", "h", "a", "c", "f"]);
  });

  it("under a rate (refusals with the rate's wait), arrivals between refusals", async () => {
    const r = rig({ concurrency: Number.POSITIVE_INFINITY, perTick: 2 });
    for (const [id, p] of arrivals) {
      r.q.push(job(id, p));
      await r.pump(8, 20); // half of them within the wait of the last refusal
    }
    for (let i = 0; i < 4; i++) {
      r.tick();
      await r.pump(8, 50);
    }
    // a and b came first and started at once; the rest in order.
    expect(r.started).toEqual(["a", "b", "d", "g", "e", "h", "c", "f"]);
  });
});

describe("LimitGate.release", () => {
  it("answers whether the attempt's end may let the next task of its type start (a concurrency limit)", async () => {
    const limits = [
      { task_type: "llm", concurrency: 2, in_use: 0, waiting: 0 },
      { task_type: "web", rate_per_s: 5, in_use: 0, waiting: 0 },
    ];
    const store = {
      read: async () => ({ nowMs: 0, limits, holders: [] }),
      release: async () => true,
    } as unknown as LimitStore;
    const gate = new LimitGate(store, { distributorId: "d" });
    await gate.refresh();
    expect(gate.release("t1", 1, "llm")).toBe(true);
    expect(gate.release("t2", 1, "web")).toBe(false); // the rate's wait holds all the same
    expect(gate.release("t3", 1, "echo")).toBe(false); // unlimited: no store call either
  });
});

describe("DispatchQueue.take with fits: a task whose type has no room keeps its place", () => {
  const typed = (id: string, type: string, priority?: number) =>
    pendingTask(id, { task_type: type, ...(priority === undefined ? {} : { priority }) });

  it("passes over a refused type in place, asks once per type, and keeps first-in-first-out within each", () => {
    const q = new DispatchQueue();
    for (const [id, type] of [
      ["x1", "x"],
      ["y1", "y"],
      ["x2", "x"],
      ["x3", "x"],
      ["y2", "y"],
      ["x4", "x"],
    ] as const)
      q.push(typed(id, type));
    const asked: string[] = [];
    const only = (type: string) => (t: TaskDict) => {
      asked.push(t.task_id);
      return t.task_type === type;
    };
    expect(ids(q.take(10, Date.now(), only("y")))).toEqual(["y1", "y2"]);
    expect(asked).toEqual(["x1", "y1", "y2"]); // x refused once; its other tasks not asked
    // x's tasks kept their order (they were not sent to the back behind later arrivals).
    q.push(typed("x5", "x"));
    expect(ids(q.take(2, Date.now(), only("x")))).toEqual(["x1", "x2"]);
    expect(q.ids()).toEqual(["x3", "x4", "x5"]);
  });

  it("finds the one task that can start behind a deep backlog of a busy type, and stops once none is left that can", () => {
    const q = new DispatchQueue();
    for (let i = 0; i < 5_000; i++) q.push(typed(`x${i}`, "x"));
    q.push(typed("y-last", "y"));
    for (let i = 0; i < 5_000; i++) q.push(typed(`z${i}`, "z"));
    let asked = 0;
    const yOnly = (t: TaskDict) => {
      asked++;
      return t.task_type === "y";
    };
    expect(ids(q.take(5, Date.now(), yOnly))).toEqual(["y-last"]);
    expect(asked).toBe(3); // x1, y-last, z0: one refusal per type
    expect(q.size).toBe(10_000);
    // Priorities first, then the order within a lane, as without fits.
    q.push(typed("x-high", "x", 7));
    expect(ids(q.take(2, Date.now(), (t) => t.task_type === "x"))).toEqual(["x-high", "x0"]);
  });

  it("with a limited type: a task refused by fits is not offered, and is offered from its place later", () => {
    const q = new DispatchQueue();
    q.limitBy(limitsJob);
    q.push(job("j1"));
    q.push(pendingTask("u1"));
    q.push(job("j2"));
    expect(ids(q.take(10, Date.now(), (t) => t.task_type !== "job"))).toEqual(["u1"]);
    expect(q.offers).toBe(false);
    expect(ids(q.take(10, Date.now(), () => true))).toEqual(["j1", "j2"]); // offered in their order
    expect(q.isOffered("j1") && q.isOffered("j2")).toBe(true);
  });
});

describe("DispatchQueue.take with fits, against a walk of the whole queue", () => {
  it("takes what a walk that never stops early would take, in the same order, whatever the mix", () => {
    const item = fc.record({
      type: fc.constantFrom("a", "b", "c", "d"),
      priority: fc.option(fc.integer({ min: 0, max: 9 }), { nil: undefined }),
      later: fc.boolean(), // waiting for its backoff
    });
    fc.assert(
      fc.property(
        fc.array(item, { maxLength: 60 }),
        fc.dictionary(fc.constantFrom("a", "b", "c", "d"), fc.integer({ min: 0, max: 5 })),
        fc.integer({ min: 1, max: 70 }),
        (items, room, max) => {
          const now = Date.now();
          const q = new DispatchQueue();
          const queued = items.map((it, i) => {
            const t = pendingTask(`t${i}`, {
              task_type: it.type,
              ...(it.priority === undefined ? {} : { priority: it.priority }),
            });
            q.push(t, it.later ? now + LATER : 0);
            return { t, later: it.later };
          });
          // The reference: every task in queue order (priority, then arrival), none passed over early.
          const order = queued
            .map((x, i) => ({ ...x, i }))
            .sort((x, y) => (y.t.priority ?? 0) - (x.t.priority ?? 0) || x.i - y.i);
          const left = new Map(Object.entries(room));
          const refused = new Set<string>();
          const expected: string[] = [];
          for (const { t, later } of order) {
            if (expected.length >= max) break;
            if (later || refused.has(t.task_type)) continue;
            const n = left.get(t.task_type) ?? 0;
            if (n > 0) {
              left.set(t.task_type, n - 1);
              expected.push(t.task_id);
            } else refused.add(t.task_type);
          }
          const free = new Map(Object.entries(room));
          const fits = (t: TaskDict) => {
            const n = free.get(t.task_type) ?? 0;
            if (n <= 0) return false;
            free.set(t.task_type, n - 1);
            return true;
          };
          expect(ids(q.take(max, now, fits))).toEqual(expected);
          expect(q.size).toBe(items.length - expected.length);
        },
      ),
      { numRuns: 300 },
    );
  });
});
