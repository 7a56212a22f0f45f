import fc from "fast-check";
import { expect } from "vitest";
import { fuzzParams, fuzzRuns, fuzzTimeout } from "./inputs.js";
import { type EngineName, withoutMessage } from "./twin-stores.js";

/** What the engine-twin fuzz files (test/fuzz/engine-twins*.test.ts) check with: a step's answers on both engines, a property. */

/** Asserts the two engines' answers for one step are equal; names the step and the step log when not. */
export function same(log: string[], what: string, both: Record<EngineName, unknown>): void {
  const memory = withoutMessage(both.memory);
  const redis = withoutMessage(both.redis);
  expect(
    memory,
    `${what} differs (memory vs redis)\nsteps so far:\n${log.join("\n")}\nredis said: ${JSON.stringify(both.redis)}\nmemory said: ${JSON.stringify(both.memory)}`,
  ).toEqual(redis);
}

/** A property over `ops` run `runs` times (FUZZ_RUNS scales it), as vitest's test body and timeout. */
export function property<T>(ops: fc.Arbitrary<T>, run: (ops: T) => Promise<void>, runs: number) {
  return [
    async () => {
      await fc.assert(fc.asyncProperty(ops, run), fuzzParams(fuzzRuns(runs)));
    },
    fuzzTimeout(fuzzRuns(runs)),
  ] as const;
}
