import { afterAll, beforeAll, describe, it } from "vitest";
import { fuzzRuns } from "../helpers/fuzz/inputs.js";
import { fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { requestLines } from "../helpers/fuzz/request-lines.js";
import { type FuzzSystem, inProcessSystem } from "../helpers/fuzz/system.js";

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

  it("answers every request line with a status, and no process dies", async () => {
    await fuzzProbe(system, book, requestLines, { runs: fuzzRuns(10), minLength: 4, maxLength: 16 });
  }, 300_000);
});
