import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Task } from "../../../src/index.js";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { servedCluster } from "../../helpers/served-cluster.js";

/**
 * Scheduling controls over REST: POST /tasks takes priority, run_at, delay_ms (recorded as
 * run_at) and expires_at; bad values are 422 naming the field with nothing recorded; the task
 * id is the idempotency key (202, then 200 with the task as it stands).
 */
describe("scheduling controls over REST", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let base = "";
  beforeAll(async () => {
    ({ cluster, server } = await servedCluster("scheduling-http"));
    base = `http://127.0.0.1:${server.port}`;
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });
  const post = (body: unknown) =>
    fetch(`${base}/tasks`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  const get = (id: string, wait = 0) => fetch(`${base}/tasks/${id}${wait ? `?wait=${wait}` : ""}`);

  it("records priority and turns delay_ms into run_at; the task does not start before it", async () => {
    const id = cluster.id("later");
    const before = Date.now();
    const res = await post({ task_id: id, task_type: "echo", payload: { a: 1 }, priority: 4, delay_ms: 300 });
    expect(res.status).toBe(202);
    const posted = (await res.json()) as Record<string, unknown>;
    expect(posted).toMatchObject({ task_id: id, status: "pending", priority: 4 });
    expect(posted).not.toHaveProperty("delay_ms");
    const runAt = Date.parse(posted.run_at as string);
    expect(runAt).toBeGreaterThanOrEqual(before + 300);
    const done = (await get(id, 10_000).then((r) => r.json())) as Record<string, unknown>;
    expect(done).toMatchObject({ status: "completed", result: { a: 1 }, priority: 4 });
    expect(Date.parse(done.started_at as string)).toBeGreaterThanOrEqual(runAt);
  });

  it("counts the tasks waiting for their run_at in /metrics (triad_tasks_delayed)", async () => {
    const gauge = async () => {
      const text = await fetch(`${base}/metrics`).then((r) => r.text());
      return Number(/^triad_tasks_delayed (\d+)$/m.exec(text)?.[1] ?? Number.NaN);
    };
    for (let i = 0; i < 3; i++) {
      const res = await post({
        task_id: cluster.id(`far-${i}`),
        task_type: "echo",
        payload: {},
        delay_ms: 600_000,
      });
      expect(res.status).toBe(202);
    }
    // Counted by the due sweep about once a second.
    const deadline = Date.now() + 10_000;
    while ((await gauge()) !== 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(await gauge()).toBe(3);
  });

  it("answers an id already recorded with 200 and the task as it stands, changing nothing", async () => {
    const id = cluster.id("once");
    const first = await post({ task_id: id, task_type: "echo", payload: { v: 1 }, priority: 2 });
    expect(first.status).toBe(202);
    const again = await post({ task_id: id, task_type: "echo", payload: { v: 2 }, priority: 9 });
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ task_id: id, payload: { v: 1 }, priority: 2 });
    expect(await cluster.coordinator.submitTask({ task_id: id, task_type: "echo" })).toBe(false);
  });

  it.each([
    [{ priority: 10 }, "priority"],
    [{ priority: -1 }, "priority"],
    [{ priority: 1.5 }, "priority"],
    [{ priority: "9" }, "priority"],
    [{ run_at: "tomorrow" }, "run_at"],
    [{ run_at: "2030-01-01T10:00:00" }, "run_at"], // no zone
    [{ delay_ms: -5 }, "delay_ms"],
    [{ delay_ms: 10, run_at: "2030-01-01T10:00:00Z" }, "delay_ms"],
    [{ expires_at: "soon" }, "expires_at"],
    [{ run_at: "2030-01-01T10:00:00Z", expires_at: "2030-01-01T09:00:00Z" }, "expires_at"],
    [{ delay_ms: 60_000, expires_at: new Date(Date.now() + 1000).toISOString() }, "expires_at"],
  ])("refuses %j with 422 naming %s, recording nothing", async (fields, field) => {
    const id = cluster.id(`bad-${field}-${Math.random().toString(36).slice(2, 7)}`);
    const res = await post([
      { task_id: cluster.id("fine"), task_type: "echo" },
      { task_id: id, task_type: "echo", ...fields },
    ]);
    expect(res.status).toBe(422);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("ERR_INVALID_TASK");
    expect(body.error.message).toContain(`[1].${field}`);
    expect((await get(id)).status).toBe(404);
  });

  it("a number past every bound is told the field's own bound, not a safe integer's", async () => {
    for (const [fields, bound] of [
      [{ delay_ms: 1e20 }, "<=315360000000"],
      [{ priority: 1e20 }, "<=9"],
    ] as const) {
      const res = await post({ task_id: cluster.id("huge"), task_type: "echo", ...fields });
      expect(res.status).toBe(422);
      const { error } = (await res.json()) as { error: { message: string } };
      expect(error.message).toContain(bound);
      expect(error.message).not.toContain("9007199254740991");
    }
  });

  it("takes the same from a Task, and refuses the same in the library, naming the field", async () => {
    const c = cluster.coordinator;
    const runAt = new Date(Date.now() + 100).toISOString();
    const task = new Task({ taskId: cluster.id("lib"), taskType: "echo", priority: 3, runAt });
    expect(task.toDict()).toMatchObject({ priority: 3, run_at: runAt });
    expect(new Task({ taskId: "x", taskType: "echo", priority: 0 }).toDict()).not.toHaveProperty("priority");
    expect(await c.submitTask(task)).toBe(true);
    expect(await c.waitForTask(task.taskId, 10_000)).toMatchObject({
      status: "completed",
      priority: 3,
      run_at: runAt,
    });
    expect(() => new Task({ taskId: "x", taskType: "echo", runAt: "2030-01-01T10:00:00" })).toThrow(/run_at/);
    await expect(
      c.submitTask({ task_id: cluster.id("p"), task_type: "echo", priority: 12 }),
    ).rejects.toMatchObject({
      code: "ERR_INVALID_TASK",
      message: expect.stringContaining("priority"),
    });
    await expect(
      c.submitTask({
        task_id: cluster.id("w"),
        task_type: "echo",
        run_at: "2030-01-01T10:00:00Z",
        expires_at: "2030-01-01T10:00:00Z",
      }),
    ).rejects.toMatchObject({ code: "ERR_INVALID_TASK", message: expect.stringContaining("expires_at") });
  });
});
