import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { SubscribeToTaskRequest } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { TaskWatch } from "../../../src/agents/live/task-changes.js";
import type { HandlerContext } from "../../../src/agents/worker/task-runner.js";
import { followTask } from "../../../src/cli/task-follow.js";
import type { JsonValue, Task } from "../../../src/index.js";
import { CoordinatorAgent } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { MAX_EVENT_STREAMS, streamTaskEvents } from "../../../src/server/task-events.js";
import { FAST, TestCluster } from "../../helpers/cluster.js";
import { testEngines } from "../../helpers/engines.js";
import { until } from "../../helpers/wait.js";

/**
 * GET /tasks/:id/events (SPEC "Waiting for input, progress"): Server-Sent Events of every
 * change of a task, each with an id derived from the task's state in the store, ending after
 * the terminal event; behind TRIAD_API_TOKEN; resumed across a coordinator restart with
 * Last-Event-ID (nothing repeated, nothing missed), and 204 once the end was seen.
 */

const TOKEN = "events-token";
const auth = { authorization: `Bearer ${TOKEN}` };
type Event = { id: string; type: string; task: Record<string, JsonValue> };

const gates = new Map<string, Array<() => void>>();
/** Waits for the test to open its gate `n` (0, 1, ...). */
const gateOf = (id: string, n: number) =>
  new Promise<void>((resolve) => {
    const list = gates.get(id) ?? [];
    list[n] = resolve;
    gates.set(id, list);
  });
const open = async (id: string, n: number) => {
  await until(`${id} waits at its gate ${n}`, () => gates.get(id)?.[n] !== undefined, 20_000, 5);
  gates.get(id)![n]!();
};

const reasons = new Map<string, unknown>();

const handlers = {
  /** Asks which account, then answers with what it was given. */
  asking: (_task: Task, ctx: HandlerContext): JsonValue => {
    if (ctx.inputs.length === 0) ctx.requestInput({ question: "which account?" });
    return { account: ctx.inputs[0]! };
  },
  /** Says where it is, then runs until its signal fires. */
  patient: (task: Task, ctx: HandlerContext): Promise<JsonValue> =>
    new Promise((resolve) => {
      ctx.progress({ step: 1 });
      ctx.signal.addEventListener("abort", () => {
        reasons.set(task.taskId, ctx.signal.reason);
        resolve(null);
      });
    }),
  steps: async (task: Task, ctx: HandlerContext): Promise<JsonValue> => {
    ctx.progress({ step: 1 });
    await gateOf(task.taskId, 0);
    ctx.progress({ step: 2 });
    await gateOf(task.taskId, 1);
    return "done";
  },
};

/** Reads a text/event-stream body, calling `onEvent` per event, until it ends or `stop()` says so. */
async function readEvents(
  res: Response,
  onEvent: (e: Event) => boolean | undefined,
): Promise<"ended" | "stopped"> {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return "ended";
    buffer += value;
    let end = buffer.indexOf("\n\n");
    while (end >= 0) {
      const frame = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let id = "";
      const data: string[] = [];
      for (const line of frame.split("\n")) {
        if (line.startsWith("id: ")) id = line.slice(4);
        else if (line.startsWith("data: ")) data.push(line.slice(6));
      }
      if (data.length > 0 && onEvent({ id, ...(JSON.parse(data.join("\n")) as Omit<Event, "id">) })) {
        await reader.cancel();
        return "stopped";
      }
      end = buffer.indexOf("\n\n");
    }
  }
}

describe.each(testEngines("events"))("GET /tasks/:id/events on $name", (engine) => {
  let cluster: TestCluster;
  let server: RunningServer | undefined;
  let other: { coordinator: CoordinatorAgent; server: RunningServer } | undefined;
  beforeAll(() => engine.setup(), 60_000);
  afterEach(async () => {
    await other?.server.close();
    await other?.coordinator.cleanup();
    other = undefined;
    await server?.close();
    server = undefined;
    await cluster?.stop();
  });
  afterAll(() => engine.teardown());

  async function start() {
    cluster = new TestCluster(engine.config(), { handlers: handlers as unknown as Record<string, never> });
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, apiToken: TOKEN });
    return server;
  }

  const follow = (s: RunningServer, id: string, headers: Record<string, string> = {}) =>
    fetch(`${s.url}/tasks/${encodeURIComponent(id)}/events`, { headers: { ...auth, ...headers } });

  it("streams each change with an id, progress included, and ends after the terminal event", async () => {
    const s = await start();
    await cluster.coordinator.submitTask({ task_id: "ev-1", task_type: "steps", payload: {} });
    const res = await follow(s, "ev-1");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/event-stream/);
    const events: Event[] = [];
    let metrics: Promise<string> | undefined;
    const how = await readEvents(res, (e) => {
      events.push(e);
      metrics ??= fetch(`${s.url}/metrics`).then((r) => r.text()); // while the stream is open
      // The first event may already show step 1 (a snapshot): the gates go by the value.
      const step = (e.task.progress as { step?: number } | undefined)?.step;
      if (step === 1) void open("ev-1", 0);
      if (step === 2) void open("ev-1", 1);
      return undefined;
    });
    expect(how).toBe("ended");
    expect(await metrics).toMatch(/^triad_task_event_streams 1$/m);
    const types = events.map((e) => e.type);
    expect(types[0]).toMatch(/^(snapshot|attempt)$/);
    expect(types.at(-1)).toBe("terminal");
    expect(types.filter((t) => t === "terminal")).toHaveLength(1);
    expect(types).toContain("progress"); // step 2 came while the stream was open
    expect(events.map((e) => e.task.progress).filter(Boolean)).toContainEqual({ step: 1 });
    expect(events.at(-1)!.task).toMatchObject({ status: "completed", result: "done", progress: { step: 2 } });
    // Ids are the state's: all distinct, none empty.
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    expect(events.every((e) => e.id.length > 0)).toBe(true);
    // After the end: 204 for the client that saw it, the terminal event again for one that did not.
    expect((await follow(s, "ev-1", { "last-event-id": events.at(-1)!.id })).status).toBe(204);
    const again: Event[] = [];
    await readEvents(await follow(s, "ev-1"), (e) => void again.push(e));
    expect(again.map((e) => e.type)).toEqual(["terminal"]);
    expect(again[0]!.id).toBe(events.at(-1)!.id);
  });

  it("wants the token, and says 404 for an unknown task", async () => {
    const s = await start();
    const anonymous = await fetch(`${s.url}/tasks/x/events`);
    expect(anonymous.status).toBe(401);
    const unknown = await follow(s, "no-such-task");
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ error: { code: "ERR_NOT_FOUND" } });
  });

  it("resumes across a coordinator restart with Last-Event-ID: nothing repeated, nothing missed", async () => {
    let s = await start();
    await cluster.coordinator.submitTask({ task_id: "ev-2", task_type: "steps", payload: {} });
    let lastId = "";
    let lastTask: Event["task"] | undefined;
    await readEvents(await follow(s, "ev-2"), (e) => {
      lastId = e.id;
      lastTask = e.task;
      return (e.task.progress as { step?: number } | undefined)?.step === 1; // then the client drops
    });
    expect(lastTask).toMatchObject({ status: "in_progress", progress: { step: 1 } });
    // The coordinator goes away and a new process (same id, nothing in memory) takes over.
    await server!.close();
    await cluster.coordinator.cleanup();
    await cluster.startCoordinator();
    s = server = await startCoordinatorServer(cluster.coordinator, { port: 0, apiToken: TOKEN });
    const events: Event[] = [];
    const resumed = readEvents(await follow(s, "ev-2", { "last-event-id": lastId }), (e) => {
      events.push(e);
      return undefined;
    });
    await open("ev-2", 0);
    await open("ev-2", 1);
    expect(await resumed).toBe("ended");
    // Not the state it had already seen again: the first event is a change after it.
    expect(events[0]!.id).not.toBe(lastId);
    expect(events[0]!.task.progress).not.toEqual({ step: 1 });
    expect(events.at(-1)).toMatchObject({ type: "terminal", task: { status: "completed" } });
  });

  it("A2A SubscribeToTask carries the same changes: progress as a data part of WORKING updates", async () => {
    const s = await start();
    await cluster.coordinator.submitTask({ task_id: "ev-3", task_type: "steps", payload: {} });
    const client = await new ClientFactory().createFromUrl(s.url);
    const seen: Array<{ state: string; progress?: JsonValue }> = [];
    for await (const event of client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id: "ev-3" }), {
      serviceParameters: { Authorization: `Bearer ${TOKEN}` },
    })) {
      if (event.payload?.$case !== "statusUpdate") continue;
      const status = event.payload.value.status!;
      const part = status.message?.parts.find((p) => p.content?.$case === "data");
      const data =
        part?.content?.$case === "data" ? (part.content.value as { progress?: JsonValue }) : undefined;
      seen.push({ state: String(status.state), ...(data ? { progress: data.progress } : {}) });
      const step = (data?.progress as { step?: number } | undefined)?.step;
      if (step === 1) void open("ev-3", 0);
      if (step === 2) void open("ev-3", 1);
    }
    // Each value as it came (the terminal update carries the last one too).
    const values = [...new Set(seen.map((e) => JSON.stringify(e.progress ?? null)))].filter(
      (v) => v !== "null",
    );
    expect(values).toEqual(['{"step":1}', '{"step":2}']);
    expect(seen.at(-1)!.state).toMatch(/COMPLETED|^3$/);
  });

  it("triad status --task ID --follow prints each change and exits 0 once it completed", async () => {
    const s = await start();
    await cluster.coordinator.submitTask({ task_id: "ev-4", task_type: "steps", payload: {} });
    const lines: Array<{ type: string; task: { progress?: { step: number }; status: string } }> = [];
    // A first URL that answers nothing: the next of the list is followed.
    const code = await followTask(["http://127.0.0.1:9", s.url], "ev-4", {
      json: true,
      token: TOKEN,
      out: (line) => {
        const event = JSON.parse(line) as (typeof lines)[number];
        lines.push(event);
        if (event.task.progress?.step === 1) void open("ev-4", 0);
        if (event.task.progress?.step === 2) void open("ev-4", 1);
      },
    });
    expect(code).toBe(0);
    expect(lines.at(-1)).toMatchObject({ type: "terminal", task: { status: "completed" } });
    expect(lines.filter((l) => l.type === "terminal")).toHaveLength(1);
  });

  it("a stream on another coordinator of the same store sees the task's changes, and its cancel reaches the handler", async () => {
    await start();
    // A second coordinator on the same store, with no distributor of its own.
    const b = new CoordinatorAgent({
      agentId: cluster.id("coordinator-b"),
      redis: cluster.redis,
      a2a: { router: cluster.router },
      timing: FAST,
    });
    await b.initialize();
    other = { coordinator: b, server: await startCoordinatorServer(b, { port: 0, apiToken: TOKEN }) };
    await cluster.coordinator.submitTask({ task_id: "ev-5", task_type: "patient", payload: {} });
    const events: Event[] = [];
    let asked = false;
    const how = await readEvents(await follow(other.server, "ev-5"), (e) => {
      events.push(e);
      if ((e.task.progress as { step?: number } | undefined)?.step === 1 && !asked) {
        asked = true;
        void b.cancelTask("ev-5");
      }
      return undefined;
    });
    expect(how).toBe("ended");
    expect(events.some((e) => e.type !== "terminal" && e.task.progress !== undefined)).toBe(true);
    expect(events.at(-1)).toMatchObject({
      type: "terminal",
      task: { status: "abandoned", error: "canceled by client" },
    });
    await until("the handler's signal has fired", () => reasons.has("ev-5"), 10_000, 10);
    expect((reasons.get("ev-5") as Error).message).toBe("canceled by client");
  });

  it("a task that waits for input: an input_request event, then the answer's run to the end", async () => {
    const s = await start();
    await cluster.coordinator.submitTask({ task_id: "ev-6", task_type: "asking", payload: {} });
    const events: Event[] = [];
    await readEvents(await follow(s, "ev-6"), (e) => {
      events.push(e);
      if (e.task.status === "input_required") void cluster.coordinator.provideInput("ev-6", "savings");
      return undefined;
    });
    const asked = events.find((e) => e.type === "input_request");
    expect(asked?.task).toMatchObject({
      status: "input_required",
      input_request: { question: "which account?" },
    });
    expect(events.at(-1)).toMatchObject({
      type: "terminal",
      task: { status: "completed", result: { account: "savings" } },
    });
  });
});

describe("event streams are bounded", () => {
  it(`beyond ${MAX_EVENT_STREAMS} open streams a coordinator answers 503 with Retry-After, and one that closes frees its place`, async () => {
    const task = {
      task_id: "t",
      task_type: "echo",
      payload: {},
      status: "in_progress" as const,
      result: null,
      error: null,
      attempts: 1,
      assigned_to: "w",
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
    };
    const watch = new TaskWatch({ read: async () => task });
    const server = createServer((req, res) => void streamTaskEvents(req, res, watch, "t"));
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
    try {
      watch.streams = MAX_EVENT_STREAMS - 1; // as if that many were open
      const last = new AbortController();
      const open = await fetch(url, { signal: last.signal });
      expect(open.status).toBe(200);
      expect(watch.streams).toBe(MAX_EVENT_STREAMS);
      const refused = await fetch(url);
      expect(refused.status).toBe(503);
      expect(refused.headers.get("retry-after")).toBe("5");
      expect(await refused.json()).toMatchObject({ error: { code: "ERR_TOO_MANY_STREAMS" } });
      last.abort();
      await until(
        "the aborted stream gives its place back",
        () => watch.streams !== MAX_EVENT_STREAMS,
        10_000,
        5,
      );
      expect(watch.streams).toBe(MAX_EVENT_STREAMS - 1);
    } finally {
      watch.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it("streams opened together are bounded too (each takes its place before it reads the task); a 404 or a HEAD keeps none", async () => {
    const task = {
      task_id: "t",
      task_type: "echo",
      payload: {},
      status: "in_progress" as const,
      result: null,
      error: null,
      attempts: 1,
      assigned_to: "w",
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
    };
    // Every read waits until five requests are in: they all come before any has read.
    let release = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let arrived = 0;
    const watch = new TaskWatch({
      read: async (id) => {
        await gate;
        return id === "t" ? task : null;
      },
    });
    const server = createServer((req, res) => {
      if (++arrived === 5) release();
      const id = req.url === "/missing" ? "missing" : "t";
      void streamTaskEvents(req, res, watch, id);
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const abort = new AbortController();
    try {
      watch.streams = MAX_EVENT_STREAMS - 2; // two places left
      const answers = await Promise.all(
        Array.from({ length: 5 }, () => fetch(`${url}/`, { signal: abort.signal })),
      );
      expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 503, 503, 503]);
      expect(watch.streams).toBe(MAX_EVENT_STREAMS);
      abort.abort();
      await until(
        "the aborted streams give their places back",
        () => watch.streams <= MAX_EVENT_STREAMS - 2,
        10_000,
        5,
      );
      expect(watch.streams).toBe(MAX_EVENT_STREAMS - 2);
      expect((await fetch(`${url}/missing`)).status).toBe(404);
      expect((await fetch(`${url}/`, { method: "HEAD" })).status).toBe(200);
      expect(watch.streams).toBe(MAX_EVENT_STREAMS - 2);
    } finally {
      watch.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });
});
