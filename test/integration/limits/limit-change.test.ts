import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LimitGate } from "../../../src/agents/limits/limit-gate.js";
import { LimitStore } from "../../../src/agents/limits/limit-store.js";
import type { Task } from "../../../src/index.js";
import { RedisClient } from "../../../src/index.js";
import { TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * A limit set or removed takes effect when its setter is answered, not at the distributors' next
 * refresh (2 s): the change is announced and every gate reads the limits again at once. Before,
 * lowering a type to stop a flood let more of it start for up to 2 s after the 200.
 */
describe.each(testEngines("limit-change", { cluster: true }))("a limit change on $name", (engine) => {
  beforeAll(() => engine.setup(), 60_000);
  afterAll(() => engine.teardown());

  it("reaches a gate in another client at once, however long its refresh interval", async () => {
    const config = engine.config();
    const setter = new RedisClient(config);
    const reader = new RedisClient(config);
    expect(await setter.connect()).toBe(true);
    expect(await reader.connect()).toBe(true);
    // A refresh an hour away: only the change notice can tell this gate.
    const gate = new LimitGate(new LimitStore(reader), { distributorId: "d1", refreshMs: 3_600_000 });
    try {
      await gate.start();
      expect(gate.isLimited("llm")).toBe(false);
      await new LimitStore(setter).set("llm", { concurrency: 1 });
      await until("the gate knows llm is limited", () => gate.isLimited("llm"), 2_000);
      await new LimitStore(setter).remove("llm");
      await until("the gate knows llm is limited no more", () => !gate.isLimited("llm"), 2_000);
    } finally {
      gate.stop();
      await setter.disconnect();
      await reader.disconnect();
    }
  });

  it("holds from the setter's answer on: tasks submitted right after it start within the new limit", async () => {
    let running = 0;
    let most = 0;
    const slow = async (_task: Task) => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 150));
      running--;
      return { ok: true };
    };
    const cluster = new TestCluster(engine.config(), { handlers: { slow } });
    try {
      await cluster.startOne();
      const c = cluster.coordinator;
      // Every gate has read the limits already (none): the type is unlimited until told.
      await c.setLimit("slow", { concurrency: 1 });
      const ids = Array.from({ length: 4 }, (_, i) => `slow-${i}`);
      for (const id of ids) await c.submitTask({ task_id: id, task_type: "slow", payload: {} });
      const done = await Promise.all(ids.map((id) => c.waitForTask(id, 30_000)));
      expect(done.map((t) => t?.status)).toEqual(ids.map(() => "completed"));
      expect(most, "attempts of the type running at once after the limit was set").toBe(1);
    } finally {
      await cluster.stop();
    }
  }, 60_000);
});
