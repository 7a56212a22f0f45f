import { describe, expect, it } from "vitest";
import { DistributorDirectory } from "../../../src/agents/coordinator/distributor-directory.js";
import type { DistributorHeartbeat } from "../../../src/agents/protocol.js";

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
    dir.heartbeat("dead", hb(0, 100)).status = "dead";
    expect(dir.leastLoaded()).toBeUndefined();
    dir.heartbeat("ok", hb(99, 100));
    expect(dir.leastLoaded()?.id).toBe("ok");
  });
});
