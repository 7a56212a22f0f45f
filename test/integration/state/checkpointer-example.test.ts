import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isTriadError, StoreCheckpointSaver } from "../../../src/index.js";
import { testEngines } from "../../helpers/engines.js";
import { freePort } from "../../helpers/free-port.js";

/** The README's "Using Triad's checkpointer in your own LangGraph app", as written, on every engine, and fromUrl's refusal. */
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

describe("StoreCheckpointSaver.fromUrl", () => {
  it("refuses a store it cannot reach, with ERR_STORE_UNAVAILABLE and no password in the message", async () => {
    const url = `redis://:hunter2@127.0.0.1:${await freePort()}`;
    const failure = await StoreCheckpointSaver.fromUrl(url, { connectTimeoutMs: 300 }).catch(
      (e: unknown) => e,
    );
    expect(isTriadError(failure, "ERR_STORE_UNAVAILABLE")).toBe(true);
    expect(String((failure as Error).message)).not.toContain("hunter2");
  });
});
