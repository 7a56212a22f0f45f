import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import { fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { requestLines } from "../helpers/fuzz/request-lines.js";
import { type FuzzSystem, inProcessSystem } from "../helpers/fuzz/system.js";
import { rawRequest } from "../helpers/raw-request.js";

/**
 * Every HTTP entry under request lines node's own client refuses to send (issue 21): each is
 * answered with a status below 500 (or 503 + Retry-After), no process dies, nothing is recorded.
 */

let system: FuzzSystem;
const book = new TaskBook();

describe("fuzz: request targets and headers at every HTTP entry (in-process tiers, real HTTP servers)", () => {
  beforeAll(async () => {
    system = await inProcessSystem("targets");
  });
  afterAll(async () => {
    await system?.close();
  });

  it(
    "answers every request line with a status, and no process dies",
    async () => {
      await fuzzProbe(system, book, requestLines, { runs: fuzzRuns(10), minLength: 4, maxLength: 16 });
    },
    fuzzTimeout(fuzzRuns(10)),
  );

  // Found by this suite: a Host the gateway's pattern takes but no URL parser does (a port over
  // 65535) made the agent card a 500; the card then names the coordinator's own URL.
  it("serves the agent card whatever the Host says", async () => {
    for (const host of ["a:99999", "[::1]:99999", "x:0"]) {
      const answer = await rawRequest(system.coordinatorPort, {
        method: "GET",
        target: "/.well-known/agent-card.json",
        headers: { host },
      });
      expect(answer.status, `Host ${host}`).toBe(200);
    }
  });
});
