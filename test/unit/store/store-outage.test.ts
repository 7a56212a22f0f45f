import { describe, expect, it } from "vitest";
import { isStoreUnavailable, retryAfterOf, TriadError } from "../../../src/core/errors.js";
import { asStoreError, StoreOutage } from "../../../src/core/store/store-outage.js";

/**
 * What counts as "the store is unavailable" (the client may send the same request again) and
 * how an outage is told: once when it starts, once when it ends.
 */

class SocketClosedUnexpectedlyError extends Error {}

describe("asStoreError", () => {
  it.each([
    "CLUSTERDOWN The cluster is down",
    "TRYAGAIN Multiple keys request during rehashing of slot",
    "LOADING Redis is loading the dataset in memory",
    "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
    "READONLY You can't write against a read only replica.",
  ])("a reply %s is unavailability: 503 with Retry-After", (reply) => {
    const err = asStoreError(new Error(reply));
    expect(isStoreUnavailable(err)).toBe(true);
    expect(err).toMatchObject({ code: "ERR_STORE_UNAVAILABLE", details: { status: 503 } });
    expect(retryAfterOf(err)).toBe(1);
    expect((err as Error).message).toContain(reply.split(" ")[0]);
  });

  it("a lost or refused connection is unavailability", () => {
    expect(
      isStoreUnavailable(asStoreError(new SocketClosedUnexpectedlyError("Socket closed unexpectedly"))),
    ).toBe(true);
    const refused = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    expect(isStoreUnavailable(asStoreError(refused))).toBe(true);
  });

  it("node-redis' cluster client failing to find a slot's master mid-failover is unavailability", () => {
    // What its slot map gives for a slot no node serves while it is rediscovered (node-redis 6).
    const err = asStoreError(new TypeError("Cannot read properties of undefined (reading 'master')"), "SET");
    expect(isStoreUnavailable(err)).toBe(true);
    expect((err as Error).message).toContain("(reading 'master'); SET)");
    // Any other TypeError is a bug, not the store: left as it is.
    const bug = new TypeError("Cannot read properties of undefined (reading 'task_id')");
    expect(asStoreError(bug)).toBe(bug);
  });

  it("any other error is left as it is", () => {
    for (const err of [
      new Error("NOSCRIPT No matching script"),
      new Error("WRONGTYPE Operation against a key holding the wrong kind of value"),
      new Error("ERR Error running script"),
      new TriadError("ERR_INVALID_KEY", "bad key"),
    ]) {
      expect(asStoreError(err)).toBe(err);
    }
  });
});

describe("StoreOutage", () => {
  const unavailable = asStoreError(new Error("CLUSTERDOWN The cluster is down")) as TriadError;

  it("tells the start once and the end once, the end after a quiet period with a reply", () => {
    let t = 0;
    const outage = new StoreOutage(1000, () => t);
    const told: string[] = [];
    outage.listen({ down: (e) => told.push(`down ${e.code}`), up: (ms) => told.push(`up ${ms}`) });
    outage.answered();
    expect(told).toEqual([]);
    outage.failed(unavailable);
    t = 100;
    outage.failed(unavailable);
    t = 500;
    outage.answered(); // another shard answers while this one is down: still one outage
    outage.failed(unavailable);
    expect(outage.down).toBe(true);
    t = 1499;
    outage.answered();
    expect(told).toEqual(["down ERR_STORE_UNAVAILABLE"]);
    t = 1500;
    outage.answered();
    outage.answered();
    expect(told).toEqual(["down ERR_STORE_UNAVAILABLE", "up 1500"]);
    expect(outage.down).toBe(false);
    outage.failed(unavailable);
    expect(told).toHaveLength(3);
  });

  it("a command sent before an outage ended that fails after it is that outage's, not a new one", () => {
    let t = 0;
    const outage = new StoreOutage(1000, () => t);
    const told: string[] = [];
    outage.listen({ down: () => told.push("down"), up: () => told.push("up") });
    const during = outage.ended; // sent while the store is down: it waits in the offline queue
    outage.failed(unavailable, outage.ended);
    t = 1500;
    outage.answered(); // back
    expect(told).toEqual(["down", "up"]);
    t = 5000;
    outage.failed(unavailable, during); // its deadline passed, its reply still on its way
    expect(told).toEqual(["down", "up"]);
    expect(outage.down).toBe(false);
    // One sent since is a new outage, as is a failure whose sending is not known.
    outage.failed(unavailable, outage.ended);
    expect(told).toEqual(["down", "up", "down"]);
    t = 7000;
    outage.answered();
    outage.failed(unavailable);
    expect(told).toEqual(["down", "up", "down", "up", "down"]);
  });
});
