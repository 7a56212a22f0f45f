import { afterAll, beforeAll, describe, it } from "vitest";
import { fuzzRuns, fuzzTimeout } from "../helpers/fuzz/inputs.js";
import { fuzzProbe, TaskBook } from "../helpers/fuzz/invariant.js";
import { closeSigners, signedBodiesBesideTasks } from "../helpers/fuzz/signed-bodies.js";
import { streamedBodies } from "../helpers/fuzz/streamed-bodies.js";
import { type FuzzSystem, inProcessSystem } from "../helpers/fuzz/system.js";

/**
 * The agents' signed POST /a2a (src/core/messaging/http/server.ts) under random bodies (issue
 * 21), to every tier. Every body is answered honestly, every agent stays up, the tasks clients
 * submit meanwhile still end, and no message records a task.
 */

let system: FuzzSystem;
const book = new TaskBook();

describe("fuzz: the agents' signed POST /a2a (in-process tiers on memory://, real HTTP servers)", () => {
  beforeAll(async () => {
    system = await inProcessSystem("signed");
  });
  afterAll(async () => {
    await closeSigners();
    await system?.close();
  });

  it(
    "answers every body honestly, stays up, ends the innocent tasks and records nothing from a message",
    async () => {
      await fuzzProbe(system, book, signedBodiesBesideTasks(3), {
        runs: fuzzRuns(10),
        minLength: 2,
        maxLength: 8,
      });
    },
    fuzzTimeout(fuzzRuns(10)),
  );

  it(
    "answers every line of a message stream in order and honestly, stays up, records nothing from a message",
    async () => {
      await fuzzProbe(
        system,
        book,
        { ...streamedBodies, beforeRun: signedBodiesBesideTasks(3).beforeRun },
        {
          runs: fuzzRuns(6),
          minLength: 2,
          maxLength: 8,
        },
      );
    },
    fuzzTimeout(fuzzRuns(6)),
  );
});
