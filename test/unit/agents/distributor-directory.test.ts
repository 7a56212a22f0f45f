import { describe, expect, it, vi } from "vitest";
import {
  DistributorDirectory,
  type DistributorEntry,
} from "../../../src/agents/coordinator/distributor-directory.js";
import type { DistributorHeartbeat } from "../../../src/agents/protocol.js";
import { workerSummary } from "../../helpers/worker-summary.js";

/** Where the coordinator places a task: the healthy distributor with most room per capacity. */

const hb = (
  load: number,
  capacity: number,
  extra: Partial<DistributorHeartbeat> = {},
): DistributorHeartbeat => ({
  kind: "distributor_status",
  status: "busy",
  load,
  capacity,
  url: null,
  owns_lease: true,
  workers: [],
  done: 0,
  ...extra,
});

/** What another coordinator heard from distributor `id` just now (several coordinators). */
const view = (id: string, load: number) => ({
  id,
  url: null,
  status: "busy",
  load,
  capacity: 100,
  owns_lease: true,
  workers: [],
  done: 0,
  last_heartbeat_at: new Date().toISOString(),
  age_ms: 0,
});

describe("DistributorDirectory.leastLoaded", () => {
  it("with none of them with free slots, picks the lowest load per unit of capacity, and spreads a burst as it places", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("a", hb(150, 100));
    dir.heartbeat("b", hb(110, 100));
    dir.heartbeat("c", hb(22, 20));
    const picks: string[] = [];
    for (let i = 0; i < 60; i++) {
      const d = dir.leastLoaded()!;
      d.placedSinceHeartbeat++;
      picks.push(d.id);
    }
    expect(picks[0]).toBe("b");
    expect(new Set(picks)).toEqual(new Set(["a", "b", "c"]));
    expect(picks.filter((p) => p === "b").length).toBeGreaterThan(picks.filter((p) => p === "c").length);
  });

  it("several coordinators: keeps a backlog on the distributors it hears itself, and gives a remote one work when it reports free slots or the local backlog runs four times deeper", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("local", hb(300, 100));
    dir.heardElsewhere(view("remote", 200) as never, "c2");
    // Both behind: the remote's backlog looks 4x deeper, so the next 500 go here.
    const picks: string[] = [];
    for (let i = 0; i < 600; i++) {
      const d = dir.leastLoaded()!;
      d.placedSinceHeartbeat++;
      picks.push(d.id);
    }
    expect(picks.slice(0, 500).every((p) => p === "local")).toBe(true);
    expect(picks.slice(500)).toContain("remote");
    // A remote one that reports free slots takes work before a local one without any.
    dir.heartbeat("local", hb(150, 100));
    dir.heardElsewhere(view("remote", 40) as never, "c2");
    expect(dir.leastLoaded()?.id).toBe("remote");
    // Both with free slots: the local one (packed while it has any).
    dir.heartbeat("local", hb(60, 100));
    expect(dir.leastLoaded()?.id).toBe("local");
    dir.heartbeat("local", hb(99, 100));
    expect(dir.leastLoaded()?.id).toBe("local");
    // The local one full: the remote one with free slots.
    dir.heartbeat("local", hb(100, 100));
    expect(dir.leastLoaded()?.id).toBe("remote");
  });

  it("packs tasks onto one distributor while it has free slots, counting the ends it reports, then spreads by load", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("a", hb(0, 100));
    dir.heartbeat("b", hb(0, 100));
    const place = () => {
      const d = dir.leastLoaded()!;
      d.placedSinceHeartbeat++;
      return d.id;
    };
    // Every task goes to the same one while it has free slots...
    const first = Array.from({ length: 100 }, place);
    expect(new Set(first).size).toBe(1);
    const packed = first[0]!;
    const other = packed === "a" ? "b" : "a";
    // ...which the tasks that end give back: 30 reported ended, 30 more fit before spreading.
    dir.get(packed)!.endedSinceHeartbeat += 30;
    expect(Array.from({ length: 30 }, place).every((id) => id === packed)).toBe(true);
    // Full: the next goes to the emptier one, which is then packed in turn (and stays so,
    // though the first frees a slot meanwhile).
    expect(place()).toBe(other);
    dir.get(packed)!.endedSinceHeartbeat += 1;
    expect(Array.from({ length: 99 }, place).every((id) => id === other)).toBe(true);
    // Both full: by load.
    const spread = Array.from({ length: 21 }, place);
    expect(spread.filter((id) => id === packed).length).toBeGreaterThanOrEqual(10);
    expect(spread.filter((id) => id === other).length).toBeGreaterThanOrEqual(10);
    // A heartbeat resets the estimate to what the distributor says it holds.
    dir.heartbeat(packed, hb(10, 100));
    expect(place()).toBe(packed);
  });

  it("does not pack onto a distributor heard through another coordinator", () => {
    const dir = new DistributorDirectory();
    dir.heardElsewhere(view("remote", 40) as never, "c2");
    dir.heartbeat("local", hb(10, 100));
    expect(dir.leastLoaded()?.id).toBe("local");
  });

  it("prefers distributors with workers, and takes one without only when none has any", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("idle-no-workers", hb(0, 0));
    expect(dir.leastLoaded()?.id).toBe("idle-no-workers");
    dir.heartbeat("busy-with-workers", hb(900, 100));
    expect(dir.leastLoaded()?.id).toBe("busy-with-workers");
  });

  it("skips the dead, the failed and those without their lease", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("no-lease", hb(0, 100, { owns_lease: false }));
    dir.heartbeat("error", hb(0, 100, { status: "error" }));
    dir.heartbeat("dead", hb(0, 100))!.status = "dead";
    expect(dir.leastLoaded()).toBeUndefined();
    dir.heartbeat("ok", hb(99, 100));
    expect(dir.leastLoaded()?.id).toBe("ok");
  });
});

describe("DistributorDirectory: heartbeats of one distributor in the order it sent them", () => {
  it("drops a heartbeat sent before the last one taken (held up on the way), and takes the next newer one", () => {
    const dir = new DistributorDirectory();
    expect(dir.heartbeat("d", hb(5, 10), 2_000)?.load).toBe(5);
    // Sent at 1,000 (before the one taken), delivered now: it says nothing new.
    expect(dir.heartbeat("d", hb(9, 10, { status: "error" }), 1_000)).toBeUndefined();
    expect(dir.get("d")).toMatchObject({ load: 5, status: "busy", sentAt: 2_000 });
    expect(dir.heartbeat("d", hb(7, 10), 3_000)?.load).toBe(7);
    expect(dir.get("d")?.sentAt).toBe(3_000);
    // One whose time is not known is taken as before (nothing to order it by).
    expect(dir.heartbeat("d", hb(1, 10))?.load).toBe(1);
    expect(dir.get("d")?.sentAt).toBe(3_000);
  });

  it("orders what a peer heard and what it heard itself by the distributor's clock, when both say it", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d", hb(5, 10), 5_000);
    // A peer heard it just now (age 0), but its heartbeat was sent before the one heard here.
    dir.heardElsewhere({ ...view("d", 50), sent_at: 4_000 } as never, "c2");
    expect(dir.get("d")).toMatchObject({ via: null, load: 5, sentAt: 5_000 });
    // A newer one through the peer is taken, even heard longer ago than the one here.
    dir.heardElsewhere({ ...view("d", 60), sent_at: 6_000, age_ms: 10_000 } as never, "c2");
    expect(dir.get("d")).toMatchObject({ via: "c2", load: 60, sentAt: 6_000 });
    // A heartbeat held up on its way here, sent before what the peer heard: dropped.
    expect(dir.heartbeat("d", hb(3, 10), 5_500)).toBeUndefined();
    expect(dir.get("d")).toMatchObject({ via: "c2", load: 60 });
    // A peer that does not say when it was sent: by when each was heard, as before.
    dir.heardElsewhere(view("d", 70) as never, "c3");
    expect(dir.get("d")).toMatchObject({ via: "c3", load: 70, sentAt: 6_000 });
  });
});

describe("DistributorDirectory: the dead, and their forgetting", () => {
  it("gives the dead past the retention to be forgotten, not one that spoke again; forgotten, it comes back new", async () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("a", hb(0, 4));
    dir.heartbeat("b", hb(0, 4));
    expect(dir.leastLoaded()?.id).toBe("a");
    await new Promise((r) => setTimeout(r, 20));
    expect(dir.expire(5).map((d) => d.id)).toEqual(["a", "b"]);
    dir.heartbeat("b", hb(0, 4)); // b is back before the retention ran out
    await new Promise((r) => setTimeout(r, 20));
    expect(dir.longDead(10).map((d) => d.id)).toEqual(["a"]);
    expect(dir.longDead(60_000)).toEqual([]);
    dir.forget("a");
    expect(dir.get("a")).toBeUndefined();
    expect(dir.leastLoaded()?.id).toBe("b");
    expect(dir.heartbeat("a", hb(0, 4))?.status).toBe("busy");
  });
});

describe("DistributorDirectory.leastLoaded by task type", () => {
  it("places a task on a distributor with a live worker that runs its type, wherever packing would put it", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["echo", "first"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["echo", "second"])] }));
    const picks = (type: string, n = 40) => {
      const out = new Set<string>();
      for (let i = 0; i < n; i++) {
        const d = dir.leastLoaded(type)!;
        d.placedSinceHeartbeat++;
        out.add(d.id);
      }
      return out;
    };
    expect(picks("first")).toEqual(new Set(["d1"]));
    expect(picks("second")).toEqual(new Set(["d2"]));
    expect(picks("first")).toEqual(new Set(["d1"])); // full, still the only one that runs it
    // Run by both: placed as any task (d1 holds 80, d2 40: d2 until as full, then both).
    expect(picks("echo", 100)).toEqual(new Set(["d1", "d2"]));
  });

  it("places as before when no live worker is known to run the type: none runs it, or it died, or the distributor is forgotten", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["first"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", [])] })); // not said yet
    expect(dir.leastLoaded("nope")).toBeDefined();
    expect(dir.leastLoaded("first")!.id).toBe("d1");
    // Its worker has died: d1 no longer runs "first"; d2's worker now runs it.
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["first"], "dead")] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["first"])] }));
    for (let i = 0; i < 30; i++) {
      const d = dir.leastLoaded("first")!;
      expect(d.id).toBe("d2");
      d.placedSinceHeartbeat++;
    }
    // The only distributor that runs it is forgotten: any healthy one.
    dir.forget("d2");
    expect(dir.leastLoaded("first")!.id).toBe("d1");
  });
});

describe("DistributorDirectory: a type whose only runners are dead but remembered", () => {
  it("places its tasks nowhere (they wait) until a runner is back or forgotten; a type never known to run is placed as any", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["b"])] }));
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1", "d2"]);
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] })); // d1 back, d2 still dead
    expect(dir.awaitsRunner("b")).toBe(true);
    expect(dir.leastLoaded("b")).toBeUndefined();
    expect(dir.awaitsRunner("nope")).toBe(false);
    expect(dir.leastLoaded("nope")!.id).toBe("d1");
    expect(dir.leastLoaded("a")!.id).toBe("d1");
    // d2 speaks again: its tasks go there.
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["b"])] }));
    expect(dir.awaitsRunner("b")).toBe(false);
    expect(dir.leastLoaded("b")!.id).toBe("d2");
    // Dead again, then forgotten (past the retention): the type is not known, placed as any.
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1", "d2"]);
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    expect(dir.leastLoaded("b")).toBeUndefined();
    dir.forget("d2");
    expect(dir.awaitsRunner("b")).toBe(false);
    expect(dir.leastLoaded("b")!.id).toBe("d1");
  });
});

describe("DistributorDirectory.leastLoaded while a worker's types are not known yet", () => {
  it("places as any task while a healthy distributor has a live worker that has not said what it runs (it may run the type)", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["first"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", [])] })); // just started: not said yet
    const picks = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const d = dir.leastLoaded("first")!;
      d.placedSinceHeartbeat++;
      picks.add(d.id);
    }
    // d1 is full past its capacity long before the 40th: d2 takes its share, as without types.
    expect(picks).toEqual(new Set(["d1", "d2"]));
    // Once d2's worker says it runs "second" only, "first" goes to d1 alone.
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["first"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["second"])] }));
    for (let i = 0; i < 40; i++) {
      const d = dir.leastLoaded("first")!;
      expect(d.id).toBe("d1");
      d.placedSinceHeartbeat++;
    }
  });
});

describe("DistributorDirectory.placeFor", () => {
  it("says in one answer where a task goes: a runner, waits for a runner, or nowhere (none healthy)", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["b"])] }));
    // A runner of its type; a type no distributor runs is placed as any task.
    expect((dir.placeFor("b") as DistributorEntry).id).toBe("d2");
    expect((dir.placeFor("a") as DistributorEntry).id).toBe("d1");
    expect(dir.placeFor("nope")).toBeDefined();
    expect(dir.placeFor("nope")).not.toBe("waits");
    // d2, b's only runner, dead but remembered: b waits for it, a still goes to d1.
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1", "d2"]);
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    expect(dir.placeFor("b")).toBe("waits");
    expect(dir.awaitsRunner("b")).toBe(true);
    expect((dir.placeFor("a") as DistributorEntry).id).toBe("d1");
    // None healthy: a type some dead distributor ran waits for it; one none is known to run has
    // nowhere to go (undefined), as awaitsRunner says.
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1"]);
    expect(dir.placeFor("a")).toBe("waits");
    expect(dir.awaitsRunner("a")).toBe(true);
    expect(dir.placeFor("nope")).toBeUndefined();
    expect(dir.awaitsRunner("nope")).toBe(false);
    expect(dir.placeFor()).toBeUndefined();
    expect(dir.leastLoaded("a")).toBeUndefined();
  });
});

describe("DistributorDirectory: a runner back before its workers", () => {
  it("keeps what a distributor's workers ran while its heartbeat lists none at all (just started): its tasks go to it, not elsewhere to fail as unknown", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["b"])] }));
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1", "d2"]);
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    expect(dir.awaitsRunner("b")).toBe(true);
    // d2 restarted: its first heartbeat comes before its worker has registered. No live worker
    // runs "b" there, but d2 is remembered as its runner for the dead-agent retention, as one
    // whose workers died: "b" still awaits a runner, and its tasks are placed on d2 to wait there.
    dir.heartbeat("d2", hb(0, 0, { workers: [] }));
    expect(dir.awaitsRunner("b")).toBe(true);
    expect(dir.leastLoaded("b")?.id).toBe("d2"); // before: "b" unknown, placed on d1
    // Its worker registers and says it runs "c" now: still remembered (a worker of "b" may come back)...
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["c"])] }));
    expect(dir.leastLoaded("b")?.id).toBe("d2");
    // ...and past it, "b" is a type no distributor runs: placed as any task.
    dir.rememberRunnersMs = () => -1;
    expect(dir.leastLoaded("b")?.id).toBe("d1");
    // Workers listed dead do count: the types only they ran are dropped.
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"], "dead")] }));
    expect(dir.runnerElsewhere("a", "d2")).toBeUndefined();
  });
});

describe("DistributorDirectory: a distributor whose heartbeats list no worker for good", () => {
  it("draws its old types' tasks for the dead-agent retention from its first such heartbeat, however many follow, and no longer", () => {
    // The monotonic clock moves only when the test moves it.
    vi.useFakeTimers({ toFake: ["performance"] });
    try {
      const dir = new DistributorDirectory();
      dir.rememberRunnersMs = () => 10_000;
      dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
      dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["b"])] }));
      // d2 restarted, and no worker of it comes back: every heartbeat lists none.
      for (let i = 0; i < 10; i++) {
        dir.heartbeat("d2", hb(0, 0, { workers: [] }));
        expect(dir.leastLoaded("b")?.id).toBe("d2");
        expect(dir.runnerElsewhere("b", "d1")?.id).toBe("d2");
        vi.advanceTimersByTime(1_000);
      }
      // 10 s after the first: the retention is over, though d2 spoke a moment ago. "b" is a type
      // no distributor is known to run: placed as any task (the contract), not drawn to d2.
      dir.heartbeat("d2", hb(0, 0, { workers: [] }));
      vi.advanceTimersByTime(1);
      expect(dir.awaitsRunner("b")).toBe(false);
      expect(dir.runnerElsewhere("b", "d1")).toBeUndefined();
      expect(dir.leastLoaded("b")?.id).toBe("d1");
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("DistributorDirectory: a type whose only live workers died on a distributor that lives on", () => {
  it("places its tasks on that distributor (it waits for its worker), hands it those held elsewhere, and forgets it after the retention", () => {
    const dir = new DistributorDirectory();
    let retentionMs = 60_000;
    dir.rememberRunnersMs = () => retentionMs;
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2", ["b"])] }));
    // w2 dies; d2 lives on and lists it dead. Before: "b" was placed as any task (on d1, to fail).
    dir.heartbeat("d2", hb(0, 0, { workers: [workerSummary("w2", ["b"], "dead")] }));
    for (let i = 0; i < 20; i++) {
      const d = dir.leastLoaded("b")!;
      expect(d.id).toBe("d2");
      d.placedSinceHeartbeat++;
    }
    expect(dir.awaitsRunner("b")).toBe(true);
    // d1 holds a "b" task (placed before): handed to d2; d2 itself is not sent elsewhere.
    expect(dir.runnerElsewhere("b", "d1")?.id).toBe("d2");
    expect(dir.runnerElsewhere("b", "d2")).toBeUndefined();
    // d2 restarted without its workers (it lists none): still the runner of "b".
    dir.heartbeat("d2", hb(0, 0, { workers: [] }));
    expect(dir.leastLoaded("b")!.id).toBe("d2");
    // d2 dead too: "b" waits unplaced.
    expect(dir.expire(-1).map((d) => d.id)).toEqual(["d1", "d2"]);
    dir.heartbeat("d1", hb(0, 10, { workers: [workerSummary("w1", ["a"])] }));
    expect(dir.leastLoaded("b")).toBeUndefined();
    expect(dir.awaitsRunner("b")).toBe(true);
    // Back with a worker of "b": as any runner.
    dir.heartbeat("d2", hb(0, 10, { workers: [workerSummary("w2b", ["b"])] }));
    expect(dir.leastLoaded("b")!.id).toBe("d2");
    expect(dir.awaitsRunner("b")).toBe(false);
    // Gone again and past the retention: "b" is not known any more, placed as any task (the contract).
    dir.heartbeat("d2", hb(0, 0, { workers: [workerSummary("w2b", ["b"], "dead")] }));
    expect(dir.leastLoaded("b")!.id).toBe("d2");
    retentionMs = -1;
    expect(dir.awaitsRunner("b")).toBe(false);
    expect(dir.runnerElsewhere("b", "d1")).toBeUndefined();
    expect(dir.leastLoaded("b")!.id).toBe("d1");
  });
});

describe("DistributorDirectory.runnerElsewhere", () => {
  it("chooses among the type's runners as any placement: one heard through another coordinator counts fuller, one with workers first", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("sender", hb(0, 10, { workers: [workerSummary("w0", ["x"])] }));
    dir.heartbeat("local", hb(60, 100, { workers: [workerSummary("w1", ["b"])] }));
    dir.heardElsewhere({ ...view("remote", 30), workers: [workerSummary("w2", ["b"])] } as never, "c2");
    // The remote one is emptier (0.3 against 0.6) but counts half its capacity fuller (0.8).
    expect(dir.runnerElsewhere("b", "sender")?.id).toBe("local");
    // Fuller than that, the local one gives way.
    dir.heartbeat("local", hb(90, 100, { workers: [workerSummary("w1", ["b"])] }));
    expect(dir.runnerElsewhere("b", "sender")?.id).toBe("remote");
    expect(dir.runnerElsewhere("b", "remote")?.id).toBe("local");

    // "c" ran lately on two distributors, live on neither: the one with workers (of another
    // type) is taken before the emptier one without, as placing a "c" task takes it.
    dir.heartbeat("bare", hb(0, 10, { workers: [workerSummary("w3", ["c"])] }));
    dir.heartbeat("busy", hb(0, 10, { workers: [workerSummary("w4", ["c"]), workerSummary("w5", ["y"])] }));
    dir.heartbeat("bare", hb(0, 0, { workers: [workerSummary("w3", ["c"], "dead")] }));
    dir.heartbeat(
      "busy",
      hb(5, 10, { workers: [workerSummary("w4", ["c"], "dead"), workerSummary("w5", ["y"])] }),
    );
    expect(dir.runnerElsewhere("c", "sender")?.id).toBe("busy");
    expect(dir.leastLoaded("c")?.id).toBe("busy");
  });
});

describe("DistributorDirectory: a distributor listed stopped", () => {
  it("stays stopped through a heartbeat without its lease; a heartbeat holding it, or a registration, takes it back", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("d", hb(0, 10, { max_body_bytes: 4096 }), 1_000);
    dir.heartbeat("d", hb(0, 0, { owns_lease: false, stopping: true }), 2_000);
    expect(dir.expire(60_000).map((d) => d.id)).toEqual(["d"]);
    // Late, sent after the stop's last word, the lease given back: not taken.
    expect(dir.heartbeat("d", hb(0, 10, { owns_lease: false, status: "recovering" }), 3_000)).toBeUndefined();
    expect(dir.get("d")).toMatchObject({ status: "dead", stopped: true });
    // Back for real: it holds its lease again.
    expect(dir.heartbeat("d", hb(0, 10), 4_000)).toMatchObject({ status: "busy", stopped: false });

    dir.heartbeat("e", hb(0, 0, { owns_lease: false, stopping: true, max_body_bytes: 4096 }), 1_000);
    dir.expire(60_000);
    // A registration: alive again, its stated limit kept when it states none.
    expect(dir.registered("e", null)).toMatchObject({ status: "recovering", maxBodyBytes: 4096 });
    expect(dir.get("e")?.stopped).toBeUndefined();
    expect(dir.heartbeat("e", hb(0, 10, { owns_lease: false, status: "recovering" }), 2_000)).toBeDefined();
    expect(dir.registered("e", null, 8192).maxBodyBytes).toBe(8192);
  });
});
