import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { bookCall, gatewayCalls, rpc, sendCall } from "../helpers/fuzz/gateway-calls.js";
import { fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import { fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { type FuzzSystem, inProcessSystem } from "../helpers/fuzz/system.js";

/**
 * The coordinator's A2A gateway (JSON-RPC at /a2a/jsonrpc) under random calls (issue 21). Every
 * call is answered honestly and in time (SendMessage returns), the processes stay up, every task
 * the gateway took on ends, and nothing else is recorded. Nothing goes to console.error or
 * console.warn: a refusal goes to Triad's logger, at debug (the SDK's route printed a stack
 * trace per request refused outside its transport handler).
 */

let system: FuzzSystem;
const book = new TaskBook();

describe("fuzz: the A2A gateway's JSON-RPC (in-process tiers on memory://, real HTTP servers)", () => {
  beforeAll(async () => {
    system = await inProcessSystem("gateway");
  });
  afterAll(async () => {
    await system?.close();
  });

  it(
    "answers every call honestly and in time, stays up, ends every task it took on and records nothing else",
    async () => {
      const printed: unknown[][] = [];
      const spies = (["error", "warn"] as const).map((method) =>
        vi
          .spyOn(console, method)
          .mockImplementation((...args: unknown[]) => void printed.push([method, ...args])),
      );
      try {
        await fuzzProbe(system, book, gatewayCalls, { runs: fuzzRuns(10), minLength: 3, maxLength: 10 });
      } finally {
        for (const spy of spies) spy.mockRestore();
      }
      expect(printed).toEqual([]);
    },
    fuzzTimeout(fuzzRuns(10)),
  );

  it("books a well-formed SendMessage as a task that ends", async () => {
    // The fuzz above only means something if the gateway takes tasks on: check one by hand.
    const body = JSON.stringify(
      rpc("SendMessage", {
        message: {
          messageId: randomUUID(),
          role: "ROLE_USER",
          parts: [{ data: { task_type: "echo", payload: { hello: "fuzz" } }, mediaType: "application/json" }],
        },
        configuration: { returnImmediately: true },
      }),
    );
    const c = { body, sendMessage: true, contentType: "application/json", auth: true, version: "1.0" };
    book.startRun();
    const before = book.accepted.size;
    const answer = await sendCall(system, c);
    expect(answer.status).toBe(200);
    bookCall(book, c, answer);
    expect(book.accepted.size).toBe(before + 1);
    expect(await book.violations(system)).toEqual([]);
  }, 60_000);
});
