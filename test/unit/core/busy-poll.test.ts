import { describe, expect, it, vi } from "vitest";
import { BusyPoll } from "../../../src/core/busy-poll.js";
import { CommandWatchdog } from "../../../src/core/store/engines/command-watchdog.js";

/**
 * The busy poller keeps the event loop turning (never asleep in epoll) while a reply is awaited,
 * for a bounded time. Time is a fake clock here; the loop's turns are real.
 */

/** Lets the event loop turn `n` times (each setImmediate runs after the poller's of that turn). */
async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe("BusyPoll", () => {
  it("polls while a reply is awaited and stops on the turn after the last reply", async () => {
    const poll = new BusyPoll(() => 0);
    const waits = poll.client(1);
    waits.begin();
    expect(poll.active).toBe(true);
    await turns(5);
    expect(poll.active).toBe(true);
    expect(poll.turns).toBeGreaterThanOrEqual(4);
    waits.end();
    await turns(2);
    expect(poll.active).toBe(false);
    const after = poll.turns;
    await turns(5);
    expect(poll.turns).toBe(after);
  });

  it("keeps the event loop from sleeping: its turns are ref'd immediates, none once it stops", async () => {
    const poll = new BusyPoll(() => 0);
    const waits = poll.client(1);
    waits.begin();
    // Only ref'd immediates are listed, and only they make libuv poll without blocking.
    expect(process.getActiveResourcesInfo()).toContain("Immediate");
    waits.end();
    await turns(2);
    expect(process.getActiveResourcesInfo()).not.toContain("Immediate");
  });

  it("keeps polling while any of several waits is open", async () => {
    const poll = new BusyPoll(() => 0);
    const waits = poll.client(1);
    waits.begin();
    waits.begin();
    waits.end();
    await turns(3);
    expect(poll.active).toBe(true);
    waits.end();
    await turns(2);
    expect(poll.active).toBe(false);
  });

  it("gives up when no reply comes within the budget, and sleeps until the next wait", async () => {
    let now = 0;
    const poll = new BusyPoll(() => now);
    const waits = poll.client(0.25);
    waits.begin();
    await turns(3);
    expect(poll.active).toBe(true);
    now = 0.3; // past the budget, the reply still out
    await turns(2);
    expect(poll.active).toBe(false);
    const stopped = poll.turns;
    await turns(5);
    expect(poll.turns).toBe(stopped);
    // A new request polls again, for its own budget.
    waits.begin();
    expect(poll.active).toBe(true);
    waits.end();
    waits.end();
  });

  it("a reply renews the budget for the waits still open", async () => {
    let now = 0;
    const poll = new BusyPoll(() => now);
    const waits = poll.client(0.25);
    waits.begin();
    waits.begin();
    now = 0.2;
    waits.end(); // budget now runs to 0.45
    now = 0.4;
    await turns(3);
    expect(poll.active).toBe(true);
    now = 0.5;
    await turns(2);
    expect(poll.active).toBe(false);
    waits.end();
  });

  it("never polls with a budget of 0", async () => {
    const poll = new BusyPoll(() => 0);
    const waits = poll.client(0);
    waits.begin();
    await turns(3);
    expect(poll.active).toBe(false);
    expect(poll.turns).toBe(0);
    waits.end();
  });

  it("pauses itself for a second when most waits outlast the budget, then tries again", async () => {
    let now = 0;
    const poll = new BusyPoll(() => now);
    const waits = poll.client(0.1);
    // 64 waits that each outlast the budget: a distant server.
    for (let i = 0; i < 64; i++) {
      waits.begin();
      now += 0.2;
      await turns(2);
      expect(poll.active).toBe(false);
      waits.end();
    }
    expect(waits.paused).toBe(true);
    waits.begin();
    expect(poll.active).toBe(false); // paused: no polling at all
    waits.end();
    // Another client of the same poller is not paused by this one's misses.
    const other = poll.client(0.1);
    other.begin();
    expect(poll.active).toBe(true);
    other.end();
    await turns(2);
    now += 1001;
    expect(waits.paused).toBe(false);
    waits.begin();
    expect(poll.active).toBe(true);
    waits.end();
    await turns(2);
    expect(poll.active).toBe(false);
  });

  it("does not pause while replies mostly come in time", async () => {
    let now = 0;
    const poll = new BusyPoll(() => now);
    const waits = poll.client(0.1);
    for (let i = 0; i < 200; i++) {
      waits.begin();
      if (i % 3 === 0) {
        now += 0.2; // one in three too slow
        await turns(2);
      }
      waits.end();
      await turns(1);
    }
    expect(waits.paused).toBe(false);
  });

  it("restarts a chain that was lost (its immediate held back by fake timers, say)", async () => {
    let now = 0;
    const poll = new BusyPoll(() => now);
    const waits = poll.client(1);
    vi.useFakeTimers({ toFake: ["setImmediate"] });
    try {
      waits.begin(); // the chain's first turn goes to the fake queue, never to run
    } finally {
      vi.useRealTimers();
    }
    await turns(3);
    expect(poll.turns).toBe(0);
    now = 100; // no turn for 100 ms: the chain counts as lost
    waits.begin();
    await turns(3);
    expect(poll.turns).toBeGreaterThan(0);
    waits.end();
    waits.end();
  });
  it("a chain started over one merely held back (a long synchronous stretch) replaces it: one turn per turn", async () => {
    let now = 0;
    const poll = new BusyPoll(() => now);
    const waits = poll.client(1000);
    waits.begin();
    now = 100; // as if the loop had been busy for 100 ms: the pending chain looks lost
    waits.begin(); // starts a new chain; the old one's turn is still queued
    const before = poll.turns;
    await turns(10);
    expect(poll.turns - before).toBeLessThanOrEqual(11);
    expect(poll.turns - before).toBeGreaterThanOrEqual(9);
    waits.end();
    waits.end();
    await turns(2);
    expect(poll.active).toBe(false);
  });
});

describe("CommandWatchdog with a busy poller", () => {
  it("opens a wait per command and closes it on the reply or the error", async () => {
    const poll = new BusyPoll(() => 0);
    const dog = new CommandWatchdog(
      5000,
      () => "redis://test",
      () => 0,
      poll.client(1),
    );
    let answer!: (v: string) => void;
    let fail!: (e: Error) => void;
    const a = dog.watch(new Promise<string>((r) => (answer = r)));
    const b = dog.watch(new Promise<string>((_, r) => (fail = r)));
    expect(poll.active).toBe(true);
    answer("ok");
    expect(await a).toBe("ok");
    await turns(2);
    expect(poll.active).toBe(true); // b still out
    fail(new Error("boom"));
    await expect(b).rejects.toThrow("boom");
    await turns(2);
    expect(poll.active).toBe(false);
    dog.stop();
  });
});
