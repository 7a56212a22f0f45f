import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzRuns } from "../helpers/fuzz/inputs.js";
import { type FuzzProbe, fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { type A2APost, closeSigners, signedBodies } from "../helpers/fuzz/signed-bodies.js";
import { type FuzzSystem, inProcessSystem } from "../helpers/fuzz/system.js";

/**
 * The agents' signed POST /a2a (src/core/messaging/http/server.ts) under random bodies (issue
 * 21), to every tier. Every body is answered honestly, every agent stays up, the tasks clients
 * submit meanwhile still end, and no message records a task.
 */

let system: FuzzSystem;
const book = new TaskBook();

/** Innocent tasks submitted through the REST API while the agents are under attack. */
async function submitInnocent(n: number): Promise<void> {
  const body = JSON.stringify(
    Array.from({ length: n }, (_, i) => ({ task_type: "echo", payload: { innocent: i } })),
  );
  const res = await fetch(`${system.coordinatorUrl}/tasks`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${system.apiToken}` },
    body,
  });
  expect(res.status).toBe(202);
  for (const t of ((await res.json()) as { tasks: Array<{ task_id: string }> }).tasks) {
    book.accept(t.task_id, "an innocent echo task");
  }
}

/** The fuzzed bodies, with a few innocent tasks submitted before each run's first one. */
const underAttack: FuzzProbe<A2APost> = { ...signedBodies, beforeRun: () => submitInnocent(3) };

describe("fuzz: the agents' signed POST /a2a (in-process tiers on memory://, real HTTP servers)", () => {
  beforeAll(async () => {
    system = await inProcessSystem("signed");
  });
  afterAll(async () => {
    await closeSigners();
    await system?.close();
  });

  it("answers every body honestly, stays up, ends the innocent tasks and records nothing from a message", async () => {
    await fuzzProbe(system, book, underAttack, { runs: fuzzRuns(10), minLength: 2, maxLength: 8 });
  }, 300_000);
});
