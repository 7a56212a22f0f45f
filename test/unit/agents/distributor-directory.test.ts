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

describe("DistributorDirectory.leastLoaded", () => {
  it("picks the lowest load per unit of capacity, and spreads a burst as it places", () => {
    const dir = new DistributorDirectory();
    dir.heartbeat("a", hb(50, 100));
    dir.heartbeat("b", hb(10, 100));
    dir.heartbeat("c", hb(10, 20));
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
    // Both with free slots: the local one, unless the remote is half its capacity emptier.
    dir.heartbeat("local", hb(60, 100));
    expect(dir.leastLoaded()?.id).toBe("local");
    dir.heartbeat("local", hb(95, 100));
    expect(dir.leastLoaded()?.id).toBe("remote");
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
