import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gatewayCalls } from "../helpers/fuzz/gateway-calls.js";
import { fuzzRuns } from "../helpers/fuzz/inputs.js";
import { fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { requestLines } from "../helpers/fuzz/request-lines.js";
import { restRequests } from "../helpers/fuzz/rest-requests.js";
import { closeSigners, signedBodiesBesideTasks } from "../helpers/fuzz/signed-bodies.js";
import { type FuzzSystem, processSystem } from "../helpers/fuzz/system.js";
import { rawRequest } from "../helpers/raw-request.js";

/**
 * The same fuzz against the tiers as separate processes (`triad coordinator`, `triad
 * distributor`, `triad worker` from bin/triad, i.e. the built dist/) with TRIAD_SECRET and
 * TRIAD_API_TOKEN set, on a redis-server of the test's own: the way the adversarial run of
 * issue 21 met them. A process that dies fails the run with its last output; the ledger is read
 * straight from Redis.
 */

let system: FuzzSystem;
const book = new TaskBook();

describe("fuzz: bin/triad processes on a real Redis, with a secret and an API token", () => {
  beforeAll(async () => {
    system = await processSystem();
  }, 60_000);
  afterAll(async () => {
    await closeSigners();
    await system?.close();
  });

  it("request lines at every process: answered, and every process lives", async () => {
    await fuzzProbe(system, book, requestLines, { runs: fuzzRuns(3), minLength: 4, maxLength: 16 });
  }, 300_000);

  it("REST API: honest answers, accepted tasks end, nothing else recorded", async () => {
    await fuzzProbe(system, book, restRequests, { runs: fuzzRuns(4), minLength: 4, maxLength: 12 });
  }, 300_000);

  it("A2A gateway: honest answers in time, its tasks end, nothing else recorded", async () => {
    await fuzzProbe(system, book, gatewayCalls, { runs: fuzzRuns(3), minLength: 3, maxLength: 10 });
  }, 300_000);

  it("signed POST /a2a to every process: honest answers, tasks in flight still end, nothing recorded", async () => {
    await fuzzProbe(system, book, signedBodiesBesideTasks(3), {
      runs: fuzzRuns(3),
      minLength: 2,
      maxLength: 8,
    });
  }, 300_000);

  // Found by this suite: the 413 (or 415) was written, then the connection closed with the rest
  // of the body unread, and the reset that followed often destroyed the answer on its way.
  it("answers an oversized or mistyped POST /tasks with its 413 or 415, never a reset", async () => {
    for (const [size, type] of [
      [1_049_300, "application/json"],
      [1_100_000, "application/json"],
      [3_000_000, "application/json"],
      [900_000, "text/plain"],
    ] as const) {
      for (let i = 0; i < 3; i++) {
        const body = JSON.stringify({ task_type: "echo", payload: { blob: "x".repeat(size) } });
        const answer = await rawRequest(system.coordinatorPort, {
          method: "POST",
          target: "/tasks",
          headers: { authorization: `Bearer ${system.apiToken}`, "content-type": type },
          body,
        });
        expect(answer.status, `${size} bytes of ${type}`).toBe(type === "text/plain" ? 415 : 413);
      }
    }
  }, 60_000);
});
