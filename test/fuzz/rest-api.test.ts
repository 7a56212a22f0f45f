import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fuzzParams, fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import { fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { headersFor, restRequests } from "../helpers/fuzz/rest-requests.js";
import { type FuzzSystem, inProcessSystem } from "../helpers/fuzz/system.js";
import { rawRequest } from "../helpers/raw-request.js";

/**
 * The coordinator's REST API under random input (issue 21). Whatever is sent, every answer is
 * honest (4xx for bad input; 5xx only 503 with Retry-After), every process stays alive, every
 * accepted task ends within the bound, and nothing refused is recorded.
 */

let system: FuzzSystem;
const book = new TaskBook();

describe("fuzz: the coordinator's REST API (in-process tiers on memory://, real HTTP servers)", () => {
  beforeAll(async () => {
    system = await inProcessSystem("rest");
  });
  afterAll(async () => {
    await system?.close();
  });

  it(
    "answers every request honestly, stays up, ends every accepted task and records nothing else",
    async () => {
      await fuzzProbe(system, book, restRequests, { runs: fuzzRuns(12), minLength: 4, maxLength: 12 });
    },
    fuzzTimeout(fuzzRuns(12)),
  );

  it(
    "runs well-formed compute tasks to the right answer, over up to 200,000 values",
    async () => {
      const operations = { sum: 0, min: Number.POSITIVE_INFINITY, max: Number.NEGATIVE_INFINITY };
      type Op = keyof typeof operations;
      const computeTask = fc.record({
        operation: fc.constantFrom<Op>("sum", "min", "max"),
        size: fc.oneof(fc.integer({ min: 1, max: 50 }), fc.constantFrom(150_000, 200_000)),
        seed: fc.integer({ min: -1000, max: 1000 }),
      });
      await fc.assert(
        fc.asyncProperty(computeTask, async ({ operation, size, seed }) => {
          const values = Array.from({ length: size }, (_, i) => ((i * 7919 + seed) % 1000) - 500);
          const expected =
            operation === "sum"
              ? values.reduce((a, b) => a + b, 0)
              : values.reduce(
                  (a, b) => (operation === "min" ? Math.min(a, b) : Math.max(a, b)),
                  operations[operation],
                );
          const answer = await rawRequest(system.coordinatorPort, {
            method: "POST",
            target: "/tasks",
            headers: headersFor(system, "token", { "content-type": "application/json" }),
            body: JSON.stringify({ task_type: "compute", payload: { operation, values } }),
          });
          expect(answer.status).toBe(202);
          const id = (JSON.parse(answer.body) as { task_id: string }).task_id;
          book.accept(id, `compute ${operation} over ${size} values`);
          const done = await fetch(`${system.coordinatorUrl}/tasks/${encodeURIComponent(id)}?wait=15000`, {
            headers: headersFor(system, "token"),
          });
          const task = (await done.json()) as { status: string; result: unknown; error: string | null };
          expect({ status: task.status, error: task.error, result: task.result }).toEqual({
            status: "completed",
            error: null,
            result: { result: expected },
          });
        }),
        fuzzParams(fuzzRuns(4, 40)),
      );
    },
    fuzzTimeout(fuzzRuns(4, 40), 5000),
  );
});
