import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { A2ARouter, CoordinatorAgent } from "../../../src/index.js";

/**
 * The coordinator follows each task submitted through it for its latency (no OpenTelemetry SDK
 * here, so nothing wraps the submit): a submit that records nothing — the id was recorded
 * already, here or by another coordinator — must not leave the task followed.
 */
describe("the tasks a coordinator follows for their latency", () => {
  const agents: CoordinatorAgent[] = [];
  afterEach(async () => {
    await Promise.all(agents.splice(0).map((a) => a.cleanup()));
  });

  async function coordinator(store: string, id: string): Promise<CoordinatorAgent> {
    const c = new CoordinatorAgent({ agentId: id, redis: { url: store }, a2a: { router: new A2ARouter() } });
    agents.push(c);
    await c.initialize();
    return c;
  }

  it("lets go of a duplicate: one recorded through another coordinator, or twice through this one", async () => {
    const store = `memory://follow-${randomUUID()}`;
    const a = await coordinator(store, "follow-a");
    const b = await coordinator(store, "follow-b");
    // No distributor: what is recorded stays open, and followed where it was submitted.
    expect(await b.submitTask({ task_id: "t1", task_type: "echo", payload: {} })).toBe(true);
    expect(b.observer.followed).toBe(1);
    expect(await a.submitTask({ task_id: "t1", task_type: "echo", payload: {} })).toBe(false);
    expect(a.observer.followed).toBe(0);
    // Twice at once through one coordinator: recorded once, followed once, and still followed.
    const both = await Promise.all([
      a.submitTask({ task_id: "t2", task_type: "echo", payload: {} }),
      a.submitTask({ task_id: "t2", task_type: "echo", payload: {} }),
    ]);
    expect(both.sort()).toEqual([false, true]);
    expect(a.observer.followed).toBe(1);
    expect(await a.submitTask({ task_id: "t2", task_type: "echo", payload: {} })).toBe(false);
    expect(a.observer.followed).toBe(1);
  });
});
