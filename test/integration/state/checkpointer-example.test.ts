import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { testEngines } from "../../helpers/engines.js";

/** The README's "Using Triad's checkpointer in your own LangGraph app", as written, on every engine. */
describe.each(testEngines("ckpt-example", { cluster: true }))(
  "the checkpointer example on $name",
  (engine) => {
    beforeAll(() => engine.setup(), 60_000);
    afterAll(() => engine.teardown());

    it("runs the graph, reads its state back, lists its thread and deletes it", async () => {
      const { main } = await import("../../../examples/langgraph-checkpointer.js");
      const out = await main(engine.config().url!);
      expect(out).toEqual({
        result: { topic: "Redis", notes: ["facts about Redis", "a draft from 1 note(s)"] },
        step: 2,
        threads: ["report-42"],
      });
    });
  },
);
