import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Task, TaskHandler } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { servedCluster } from "../../helpers/served-cluster.js";

/** Workflows over REST: POST /tasks with a graph, the 422 of a bad one, GET /tasks/:id/graph (and its cap). */
describe("workflows over REST", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  let base = "";
  beforeAll(async () => {
    ({ cluster, server } = await servedCluster("workflow-http"));
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

  it("records a graph in one POST and draws it with GET /tasks/:id/graph", async () => {
    const id = (n: string) => cluster.id(n);
    const res = await post([
      { task_id: id("plan"), task_type: "echo", payload: { step: "plan" } },
      { task_id: id("work1"), task_type: "echo", depends_on: [id("plan")] },
      { task_id: id("work2"), task_type: "echo", depends_on: [id("plan")] },
      {
        task_id: id("join"),
        task_type: "echo",
        depends_on: [id("work1"), id("work2")],
        on_dependency_failure: "run",
      },
    ]);
    expect(res.status).toBe(202);
    const done = await fetch(`${base}/tasks/${id("join")}?wait=10000`).then((r) => r.json());
    expect(done).toMatchObject({
      status: "completed",
      depends_on: [id("work1"), id("work2")],
      waiting_on: [],
    });
    const graph = (await fetch(`${base}/tasks/${id("work1")}/graph`).then((r) => r.json())) as {
      nodes: Array<{ task_id: string }>;
      edges: string[][];
      truncated: boolean;
    };
    expect(graph.truncated).toBe(false);
    expect(graph.nodes.map((n) => n.task_id).sort()).toEqual(
      [id("join"), id("plan"), id("work1"), id("work2")].sort(),
    );
    expect(graph.edges).toHaveLength(4);
    expect(graph.edges).toContainEqual([id("plan"), id("work1"), "depends"]);
    expect((await fetch(`${base}/tasks/nope-${id("x")}/graph`)).status).toBe(404);
  });

  it("answers a task whose dependency ended long ago with no waiting_on left", async () => {
    const id = (n: string) => cluster.id(n);
    expect((await post({ task_id: id("trip"), task_type: "echo" })).status).toBe(202);
    await fetch(`${base}/tasks/${id("trip")}?wait=10000`).then((r) => r.json());
    const res = await post({ task_id: id("x"), task_type: "echo", depends_on: [id("trip")] });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { depends_on: string[]; waiting_on?: string[] };
    expect(answer.depends_on).toEqual([id("trip")]);
    expect(answer.waiting_on ?? []).toEqual([]);
    const [batch] = (
      (await (await post([{ task_id: id("y"), task_type: "echo", depends_on: [id("trip")] }])).json()) as {
        tasks: Array<{ waiting_on?: string[] }>;
      }
    ).tasks;
    expect(batch?.waiting_on ?? []).toEqual([]);
  });

  it("draws a task submitted after its dependency ended in that dependency's graph", async () => {
    const id = (n: string) => cluster.id(n);
    expect((await post({ task_id: id("early"), task_type: "echo" })).status).toBe(202);
    await fetch(`${base}/tasks/${id("early")}?wait=10000`).then((r) => r.json());
    expect((await post({ task_id: id("late"), task_type: "echo", depends_on: [id("early")] })).status).toBe(
      202,
    );
    expect(await fetch(`${base}/tasks/${id("late")}?wait=10000`).then((r) => r.json())).toMatchObject({
      status: "completed",
    });
    for (const from of [id("early"), id("late")]) {
      const graph = (await fetch(`${base}/tasks/${from}/graph`).then((r) => r.json())) as {
        nodes: Array<{ task_id: string }>;
        edges: string[][];
      };
      expect(graph.nodes.map((n) => n.task_id).sort(), `graph of ${from}`).toEqual(
        [id("early"), id("late")].sort(),
      );
      expect(graph.edges).toEqual([[id("early"), id("late"), "depends"]]);
    }
  });

  it("refuses a cycle or an unknown dependency with 422 ERR_INVALID_TASK, recording nothing", async () => {
    const id = (n: string) => cluster.id(n);
    const cycle = await post([
      { task_id: id("p"), task_type: "echo", depends_on: [id("q")] },
      { task_id: id("q"), task_type: "echo", depends_on: [id("p")] },
    ]);
    expect(cycle.status).toBe(422);
    expect(await cycle.json()).toMatchObject({
      error: { code: "ERR_INVALID_TASK", message: expect.stringMatching(/cycle/) },
    });
    const unknown = await post({ task_id: id("u"), task_type: "echo", depends_on: [id("ghost")] });
    expect(unknown.status).toBe(422);
    expect((await fetch(`${base}/tasks/${id("p")}`)).status).toBe(404);
    expect((await fetch(`${base}/tasks/${id("u")}`)).status).toBe(404);
    const wide = await post({
      task_type: "echo",
      depends_on: Array.from({ length: 1001 }, (_, i) => `x${i}`),
    });
    expect(wide.status).toBe(422);
    expect(await wide.json()).toMatchObject({ error: { message: expect.stringMatching(/depends_on/) } });
    const deep = await post(
      Array.from({ length: 1001 }, (_, i) => ({
        task_id: id(`deep${i}`),
        task_type: "echo",
        ...(i > 0 ? { depends_on: [id(`deep${i - 1}`)] } : {}),
      })),
    );
    expect(deep.status).toBe(422);
    expect(await deep.json()).toMatchObject({
      error: { code: "ERR_INVALID_TASK", message: expect.stringMatching(/at most 1000 levels/) },
    });
    expect((await fetch(`${base}/tasks/${id("deep0")}`)).status).toBe(404);
  });

  it("answers truncated: true for a graph above the node cap, with at most that many nodes", async () => {
    // The cap (10,000 by default) is set low here: the walk and its flag are the same at any size.
    const capped = await startCoordinatorServer(cluster.coordinator, { port: 0, graphNodeLimit: 5 });
    try {
      const id = (n: string) => cluster.id(n);
      const res = await post([
        { task_id: id("root"), task_type: "echo" },
        ...Array.from({ length: 7 }, (_, i) => ({
          task_id: id(`leaf${i}`),
          task_type: "echo",
          depends_on: [id("root")],
        })),
      ]);
      expect(res.status).toBe(202);
      await fetch(`${base}/tasks/${id("leaf6")}?wait=10000`);
      const graphOf = (server: string) =>
        fetch(`${server}/tasks/${id("root")}/graph`).then((r) => r.json()) as Promise<{
          nodes: Array<{ task_id: string }>;
          edges: string[][];
          truncated: boolean;
        }>;
      const small = await graphOf(`http://127.0.0.1:${capped.port}`);
      expect(small.truncated).toBe(true);
      expect(small.nodes).toHaveLength(5);
      expect(small.nodes.map((n) => n.task_id)).toContain(id("root"));
      // Edges only between the nodes answered.
      const answered = new Set(small.nodes.map((n) => n.task_id));
      for (const [from, to] of small.edges) expect(answered.has(from!) && answered.has(to!)).toBe(true);
      const full = await graphOf(base);
      expect(full.truncated).toBe(false);
      expect(full.nodes).toHaveLength(8);
    } finally {
      await capped.close();
    }
  });
});

/** POST /tasks/:id/cancel of a task that already ended, whose spawned tasks still run. */
describe("cancelling a finished parent over REST", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  beforeAll(async () => {
    cluster = new TestCluster(
      { url: `memory://workflow-http-cancel-${process.pid}` },
      {
        handlers: {
          // Two children that run until canceled (built-in sleep honours ctx.signal).
          plan: (_task, ctx) => ({
            kids: ctx.spawn([
              { task_type: "sleep", payload: { ms: 60_000 } },
              { task_type: "sleep", payload: { ms: 60_000 } },
            ]),
          }),
        } as Record<string, TaskHandler<Task>>,
      },
    );
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("answers 409 saying the open tasks it spawned were canceled all the same", async () => {
    const base = `http://127.0.0.1:${server.port}`;
    const parent = cluster.id("plan");
    await cluster.coordinator.submitTask({ task_id: parent, task_type: "plan" });
    expect(await cluster.coordinator.waitForTask(parent, 5000)).toMatchObject({ status: "completed" });
    const res = await fetch(`${base}/tasks/${parent}/cancel`, { method: "POST" });
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("ERR_TASK_FINISHED");
    // Not "it was not canceled" alone: its two running children ended abandoned by this call.
    expect(body.error.message).toMatch(
      new RegExp(
        `^task ${parent} is already completed; it was not canceled, but [12] open tasks? it spawned \\(or below them\\) (was|were)$`,
      ),
    );
    for (const child of [`${parent}.1`, `${parent}.2`])
      expect(await cluster.coordinator.waitForTask(child, 5000)).toMatchObject({
        status: "abandoned",
        error: `parent ${parent} canceled`,
      });
    // A finished task with nothing open below it: the plain answer.
    const again = await fetch(`${base}/tasks/${parent}/cancel`, { method: "POST" });
    expect(((await again.json()) as { error: { message: string } }).error.message).toBe(
      `task ${parent} is already completed; it was not canceled`,
    );
  });
});
