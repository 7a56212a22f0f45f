import { describe, expect, it, vi } from "vitest";
import { Outbox } from "../../../src/agents/outbox.js";
import { sleep, until } from "../../helpers/wait.js";

/** The agents' message batching: a lone item goes at once, a busy stream goes in batches. */

const tick = () => new Promise((r) => setImmediate(r));

function recorder(
  lingerMs: number,
  maxBatch = 100,
  busy: { busyLingerMs?: number; busy?: () => boolean; quiet?: () => boolean } = {},
) {
  const sent: Array<{ to: string; items: number[] }> = [];
  const outbox = new Outbox<number>(
    (to, items) => {
      sent.push({ to, items });
      return undefined;
    },
    { lingerMs, maxBatch, ...busy },
  );
  /** The batches sent so far, their items only. */
  const batches = () => sent.map((s) => s.items);
  return { sent, batches, outbox };
}

describe("Outbox", () => {
  it("sends what one tick pushed to a peer as one batch, right after that tick", async () => {
    const { sent, outbox } = recorder(50);
    for (let i = 0; i < 5; i++) outbox.push("a", i);
    outbox.push("b", 9);
    expect(sent).toEqual([]);
    await tick();
    expect(sent).toEqual([
      { to: "a", items: [0, 1, 2, 3, 4] },
      { to: "b", items: [9] },
    ]);
    outbox.close();
  });

  it("gives a busy peer one batch per linger instead of one message per item", async () => {
    const { sent, outbox } = recorder(30);
    outbox.push("a", 0);
    await tick();
    for (let i = 1; i <= 4; i++) {
      outbox.push("a", i);
      await tick();
    }
    expect(sent).toEqual([{ to: "a", items: [0] }]); // the rest wait for the linger
    await until("the linger's batch is sent", () => sent.length === 2, 5_000, 5);
    expect(sent).toEqual([
      { to: "a", items: [0] },
      { to: "a", items: [1, 2, 3, 4] },
    ]);
    outbox.close();
  });

  it("with no linger, sends every tick's items at the end of that tick", async () => {
    const { sent, outbox } = recorder(0);
    outbox.push("a", 1);
    await tick();
    outbox.push("a", 2);
    await tick();
    await tick();
    expect(sent.map((s) => s.items)).toEqual([[1], [2]]);
    outbox.close();
  });

  it("never sends more than maxBatch items in one batch", async () => {
    const { sent, outbox } = recorder(10, 3);
    for (let i = 0; i < 7; i++) outbox.push("a", i);
    await until("all seven are sent", () => sent.flatMap((s) => s.items).length === 7, 5_000, 5);
    expect(sent.map((s) => s.items)).toEqual([[0, 1, 2], [3, 4, 5], [6]]);
    outbox.close();
  });

  it("hands back what waits with take(), and sends nothing after close()", async () => {
    const { sent, outbox } = recorder(10);
    outbox.push("a", 1);
    outbox.push("b", 2);
    expect(outbox.pending()).toBe(2);
    expect(outbox.take("a")).toEqual([1]);
    outbox.close();
    outbox.push("b", 3);
    // A negative check: nothing is sent in three lingers after close(), so a fixed wait.
    await sleep(30);
    expect(sent).toEqual([]);
    expect(outbox.pending()).toBe(0);
  });

  it("flushAll() sends everything waiting now", () => {
    const { sent, outbox } = recorder(1000);
    outbox.push("a", 1);
    outbox.push("b", 2);
    outbox.flushAll();
    expect(sent).toEqual([
      { to: "a", items: [1] },
      { to: "b", items: [2] },
    ]);
    outbox.close();
  });

  it("holds a peer's next batch while its last one is unanswered, and sends what piled up as one", async () => {
    const sent: number[][] = [];
    const answers: Array<() => void> = [];
    const outbox = new Outbox<number>(
      (_to, items) => {
        sent.push(items);
        return new Promise<void>((resolve) => answers.push(resolve));
      },
      { lingerMs: 0, maxBatch: 100, maxInFlight: 1 },
    );
    outbox.push("a", 1);
    await tick();
    for (let i = 2; i <= 5; i++) {
      outbox.push("a", i);
      await tick();
    }
    expect(sent).toEqual([[1]]); // the peer has not answered: the rest waits
    answers.shift()!();
    await tick();
    await tick();
    expect(sent).toEqual([[1], [2, 3, 4, 5]]);
    outbox.push("b", 9); // another peer is not held up
    await tick();
    expect(sent.at(-1)).toEqual([9]);
    outbox.close();
  });

  it("while busy() says so, waits busyLingerMs after a send instead of lingerMs; an idle peer still gets the first item at once", async () => {
    // The lingers are the subject: on a clock of the test's own (a loaded machine's late timers
    // would otherwise end the 150 ms linger before the check that it still holds).
    vi.useFakeTimers({
      toFake: ["setTimeout", "clearTimeout", "setImmediate", "clearImmediate", "performance"],
    });
    try {
      let busy = false;
      const { batches, outbox } = recorder(5, 100, { busyLingerMs: 150, busy: () => busy });
      // Not busy: the stream goes out once per 5 ms linger.
      outbox.push("a", 0);
      await vi.advanceTimersByTimeAsync(0);
      expect(batches()).toEqual([[0]]);
      outbox.push("a", 1);
      await vi.advanceTimersByTimeAsync(4);
      expect(batches()).toEqual([[0]]);
      await vi.advanceTimersByTimeAsync(1);
      expect(batches()).toEqual([[0], [1]]);
      await vi.advanceTimersByTimeAsync(100);
      // Busy: a peer that has had nothing from us still gets its first item at once.
      busy = true;
      outbox.push("b", 2);
      await vi.advanceTimersByTimeAsync(0);
      expect(batches()).toEqual([[0], [1], [2]]);
      outbox.push("b", 3);
      await vi.advanceTimersByTimeAsync(40);
      outbox.push("b", 4);
      await vi.advanceTimersByTimeAsync(109);
      expect(batches()).toEqual([[0], [1], [2]]); // busy: 3 and 4 wait for the longer linger
      await vi.advanceTimersByTimeAsync(1);
      expect(batches()).toEqual([[0], [1], [2], [3, 4]]);
      outbox.close();
    } finally {
      vi.useRealTimers();
    }
  });

  it("ignores busyLingerMs when lingerMs is 0 (pacing off)", async () => {
    const { batches, outbox } = recorder(0, 100, { busyLingerMs: 1000, busy: () => true });
    outbox.push("a", 1);
    await tick();
    outbox.push("a", 2);
    await tick();
    await tick();
    expect(batches()).toEqual([[1], [2]]);
    outbox.close();
  });

  it("while quiet() says so, nothing lingers: each tick's items go on the next turn; once not quiet, one batch per linger again", async () => {
    let quiet = true;
    const { batches, outbox } = recorder(10_000, 100, { quiet: () => quiet });
    for (let i = 1; i <= 3; i++) {
      outbox.push("a", i);
      await tick();
    }
    expect(batches()).toEqual([[1], [2], [3]]); // a 10 s linger would have held 2 and 3
    quiet = false;
    // What was armed while quiet (a 0 ms look at the idle peer) runs out first: timers of one
    // duration fire in the order they were set, so it has run by the end of this one.
    await sleep(0);
    outbox.push("a", 4);
    await tick();
    await tick();
    expect(batches()).toEqual([[1], [2], [3]]); // not quiet: 4 waits for the linger after 3
    outbox.flushAll();
    expect(batches()).toEqual([[1], [2], [3], [4]]);
    outbox.close();
  });
});
