import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { JsonObject, JsonValue } from "../../../src/core/json.js";
import type { Task, TaskHandler } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";

/**
 * In one process the tiers hand their task messages over without a copy (DESIGN "Handed over,
 * not copied"); what comes from outside is copied once where it comes in. Each test changes an
 * object it gave or was given after the fact, and checks that nobody else sees the change. The
 * suite runs with TRIAD_FREEZE_HANDED_OVER=1: a message an agent changed after handing it over
 * would throw there, and the task would fail.
 */

describe.each(testEngines("handed-over"))(
  "objects that cross into Triad and out of it, on $name",
  (engine) => {
    let cluster: TestCluster | undefined;
    beforeAll(() => engine.setup());
    afterEach(async () => {
      await cluster?.stop();
      cluster = undefined;
    });
    afterAll(() => engine.teardown());

    /** A coordinator, distributor d1 and worker w1 running `handlers`; the coordinator once all are ready. */
    async function start(handlers: Record<string, TaskHandler<Task>>) {
      const tc = new TestCluster(engine.config(), { handlers });
      cluster = tc;
      await tc.startOne();
      const c = tc.coordinator;
      return { c, tc };
    }

    it("a handler that changes its payload and fails is retried with the payload as submitted", async () => {
      const seen: JsonValue[] = [];
      const { c, tc } = await start({
        scribble: (task, ctx) => {
          const payload = task.payload as { nested: { marks: number[] } };
          seen.push(structuredClone(payload) as JsonObject);
          payload.nested.marks.push(ctx.attempt); // its own copy: nothing else sees this
          if (ctx.attempt === 1) throw new Error("first attempt fails");
          return { marks: payload.nested.marks };
        },
      });
      const id = tc.id("scribble");
      const payload = { nested: { marks: [0] } };
      expect(await c.submitTask({ task_id: id, task_type: "scribble", payload })).toBe(true);
      // The caller's object is still its own: changing it now reaches no attempt.
      payload.nested.marks.push(99);
      const done = await c.waitForTask(id, 10_000);
      expect(done).toMatchObject({ status: "completed", attempts: 2, result: { marks: [0, 2] } });
      expect(seen).toEqual([{ nested: { marks: [0] } }, { nested: { marks: [0] } }]);
      expect(done?.payload).toEqual({ nested: { marks: [0] } });
    });

    it("what a handler returned is what the waiter gets, whatever the handler does with it afterwards", async () => {
      const shared = { count: 1, items: ["a"] };
      let later: (() => void) | undefined;
      const { c, tc } = await start({
        cached: () => {
          later = () => {
            shared.count = 2;
            shared.items.push("b");
          };
          return shared;
        },
      });
      const id = tc.id("cached");
      expect(await c.submitTask({ task_id: id, task_type: "cached", payload: {} })).toBe(true);
      // Changed as soon as the handler has returned, before its outcome has left the worker.
      while (later === undefined) await new Promise((r) => setTimeout(r, 1));
      later();
      const done = await c.waitForTask(id, 10_000);
      expect(done).toMatchObject({ status: "completed", result: { count: 1, items: ["a"] } });
      expect(Object.isFrozen(shared)).toBe(false);
    });
  },
);
