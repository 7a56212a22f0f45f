import { randomUUID } from "node:crypto";
import {
  type Artifact,
  CancelTaskRequest,
  GetTaskRequest,
  ListTasksRequest,
  SendMessageRequest,
  type StreamResponse,
  SubscribeToTaskRequest,
  Task,
  TaskState,
} from "@a2a-js/sdk";
import { type Client, ClientFactory } from "@a2a-js/sdk/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sendMessageRpc } from "../helpers/a2a-rpc.js";
import {
  asTask,
  dataOf,
  describeEvent,
  eventually,
  stateName,
  statusText,
  taskMessage,
} from "../helpers/a2a-sdk.js";
import { freePort } from "../helpers/free-port.js";
import { START_UP_MS, startSideBySide, TriadProcess } from "../helpers/processes.js";
import { testRedis } from "../helpers/redis-server.js";

/**
 * The coordinator as an Agent2Agent server, driven by the A2A SDK's own client: a cluster of
 * `bin/triad` processes on a real Redis, the client knowing nothing but the coordinator's URL.
 */

const BUILTIN = ["compute", "data_processing", "echo", "generic", "sleep"];
const REGISTERED = ["review", "slow_square", "word_count"]; // examples/handlers.mjs

type TaskJson = { task_id: string; task_type: string; status: string; result: unknown; error: string | null };

describe("A2A gateway on a coordinator run with bin/triad (no API token)", () => {
  const env = { TRIAD_SECRET: "a2a-e2e-secret-0123456789", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" };
  let redis: Awaited<ReturnType<typeof testRedis>>;
  const procs: TriadProcess[] = [];
  let coordinatorUrl = "";
  let client: Client;

  const rest = async (path: string, init?: RequestInit) => {
    const res = await fetch(`${coordinatorUrl}${path}`, init);
    return { status: res.status, body: (await res.json()) as TaskJson };
  };

  beforeAll(async () => {
    redis = await testRedis();
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    const cUrl = `http://127.0.0.1:${cp}`;
    const dUrl = `http://127.0.0.1:${dp}`;
    // Side by side, each given its upstream's address before that one listens (an agent waits
    // for its upstream): the set-up needs one start-up's bound, not three.
    const [c] = await startSideBySide(
      [
        ["coordinator", "--id", "c1", "--redis", redis.url, "--port", String(cp)],
        ["distributor", "--id", "d1", "--coordinator", cUrl, "--redis", redis.url, "--port", String(dp)],
        [
          "worker",
          "--id",
          "w1",
          "--distributor",
          dUrl,
          "--port",
          String(wp),
          "--handlers",
          "examples/handlers.mjs",
        ],
      ],
      { env, into: procs },
    );
    coordinatorUrl = c.url;
    client = await new ClientFactory().createFromUrl(coordinatorUrl);
  });

  afterAll(async () => {
    if (process.env.DUMP) for (const p of procs) console.log(p.output);
    for (const p of procs) await p.kill();
    await redis?.close();
  });

  it("serves an agent card the SDK reads: JSON-RPC (A2A 1.0) on the coordinator's port, one skill per task type, no security", async () => {
    // The skills follow the workers' heartbeats, which reach the coordinator within a second or two.
    const card = await eventually(async () => {
      const c = (await (await fetch(`${coordinatorUrl}/.well-known/agent-card.json`)).json()) as {
        skills: Array<{ id: string; tags: string[] }>;
      };
      return c.skills?.some((s) => s.id === "word_count") ? c : undefined;
    }, "the worker's registered task types on the card");
    expect(card).toMatchObject({
      name: "Triad",
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      supportedInterfaces: [
        { url: `${coordinatorUrl}/a2a/jsonrpc`, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      ],
      capabilities: { streaming: true },
    });
    expect(card.skills.map((s) => s.id).sort()).toEqual([...BUILTIN, ...REGISTERED].sort());
    expect(card.skills.find((s) => s.id === "compute")?.tags).toContain("built-in");
    expect(card.skills.find((s) => s.id === "word_count")?.tags).toContain("registered");
    expect(card).not.toHaveProperty("securitySchemes");
    expect(card).not.toHaveProperty("securityRequirements");

    const seen = await client.getAgentCard();
    expect(seen.supportedInterfaces[0]?.url).toBe(`${coordinatorUrl}/a2a/jsonrpc`);
    expect(client.transport.protocolName).toBe("JSONRPC");
  });

  it("SendMessage runs a compute task to COMPLETED with the result as a data artifact; the A2A id is the Triad id", async () => {
    const task = asTask(
      await client.sendMessage(
        taskMessage({ task_type: "compute", payload: { operation: "sum", values: [1, 2, 3, 4] } }),
      ),
    );
    expect(stateName(task.status?.state)).toBe("TASK_STATE_COMPLETED");
    expect(task.artifacts).toHaveLength(1);
    expect(dataOf(task.artifacts[0])).toEqual({ result: 10 });

    const record = await rest(`/tasks/${encodeURIComponent(task.id)}`);
    expect(record.status).toBe(200);
    expect(record.body).toMatchObject({
      task_id: task.id,
      task_type: "compute",
      status: "completed",
      result: { result: 10 },
    });

    const again = await client.getTask(GetTaskRequest.fromJSON({ id: task.id }));
    expect(again.contextId).toBe(task.contextId);
    expect(stateName(again.status?.state)).toBe("TASK_STATE_COMPLETED");
    expect(dataOf(again.artifacts[0])).toEqual({ result: 10 });
    expect(again.history.some((m) => m.parts.some((p) => p.content?.$case === "data"))).toBe(true);
  });

  it("a data part may carry depends_on: the task waits for it; an unknown dependency is REJECTED with the reason", async () => {
    const first = asTask(await client.sendMessage(taskMessage({ task_type: "echo", payload: { step: 1 } })));
    const second = asTask(
      await client.sendMessage(
        taskMessage({ task_type: "echo", payload: { step: 2 }, depends_on: [first.id] }),
      ),
    );
    expect(stateName(second.status?.state)).toBe("TASK_STATE_COMPLETED");
    const record = await rest(`/tasks/${encodeURIComponent(second.id)}`);
    expect(record.body).toMatchObject({ status: "completed", depends_on: [first.id], waiting_on: [] });
    const orphan = asTask(
      await client.sendMessage(
        taskMessage({ task_type: "echo", payload: {}, depends_on: ["no-such-task-anywhere"] }),
      ),
    );
    expect(stateName(orphan.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(statusText(orphan)).toMatch(/neither a known task nor in this batch/);
    expect((await rest(`/tasks/${encodeURIComponent(orphan.id)}`)).status).toBe(404);
  });

  it("refuses a task type no live worker runs, and input that is no task, saying why", async () => {
    const unknown = asTask(await client.sendMessage(taskMessage({ task_type: "no_such_type", payload: {} })));
    expect(stateName(unknown.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(statusText(unknown)).toMatch(
      /unknown task type "no_such_type": no live worker runs it \(this cluster runs .*compute/,
    );
    // Refused before it became a Triad task; the A2A side still answers for it.
    expect((await rest(`/tasks/${encodeURIComponent(unknown.id)}`)).status).toBe(404);
    const kept = await client.getTask(GetTaskRequest.fromJSON({ id: unknown.id }));
    expect(stateName(kept.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(statusText(kept)).toMatch(/unknown task type/);

    const badPayload = asTask(
      await client.sendMessage(taskMessage({ task_type: "compute", payload: [1, 2] })),
    );
    expect(stateName(badPayload.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(statusText(badPayload)).toMatch(/^payload: .*record/);

    const textOnly = asTask(
      await client.sendMessage(
        SendMessageRequest.fromJSON({
          message: { messageId: randomUUID(), role: "ROLE_USER", parts: [{ text: "add 1 and 2 please" }] },
        }),
      ),
    );
    expect(stateName(textOnly.status?.state)).toBe("TASK_STATE_REJECTED");
    // Without --a2a-text-type, text alone is no task; the refusal names the flag that lets it in.
    expect(statusText(textOnly)).toMatch(/the message has text only .*--a2a-text-type TYPE/);

    // A payload the handler refuses fails the task, with the handler's reason.
    const failed = asTask(
      await client.sendMessage(
        taskMessage({ task_type: "compute", payload: { operation: "median", values: [1] } }),
      ),
    );
    expect(stateName(failed.status?.state)).toBe("TASK_STATE_FAILED");
    expect(statusText(failed)).toMatch(/compute: operation must be one of/);
  });

  it("SendStreamingMessage streams a task's progress over SSE through to COMPLETED", async () => {
    const events: string[] = [];
    let last: StreamResponse | undefined;
    let artifact: Artifact | undefined;
    for await (const event of client.sendMessageStream(
      taskMessage({ task_type: "sleep", payload: { ms: 800 } }),
    )) {
      events.push(describeEvent(event));
      if (event.payload?.$case === "artifactUpdate") artifact = event.payload.value.artifact;
      last = event;
    }
    // The first event is the task as the store has it by then: submitted, or already started.
    expect(events[0]).toMatch(/^task:TASK_STATE_(SUBMITTED|WORKING)$/);
    expect(events.slice(1)).toEqual(["status:TASK_STATE_WORKING", "artifact", "status:TASK_STATE_COMPLETED"]);
    expect(dataOf(artifact)).toEqual({ slept_ms: 800 });
    expect(last?.payload?.$case === "statusUpdate" && last.payload.value.taskId).toBeTruthy();
  });

  it("CancelTask ends a long sleep task CANCELED; Triad abandons it and refuses the running attempt's late result", async () => {
    const submitted = asTask(
      await client.sendMessage(
        taskMessage(
          { task_type: "sleep", payload: { ms: 2500 } },
          { configuration: { returnImmediately: true } },
        ),
      ),
    );
    expect(stateName(submitted.status?.state)).toBe("TASK_STATE_SUBMITTED");
    await eventually(async () => {
      const t = await client.getTask(GetTaskRequest.fromJSON({ id: submitted.id }));
      return t.status?.state === TaskState.TASK_STATE_WORKING ? t : undefined;
    }, "the sleep task to start on the worker");

    const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id: submitted.id }));
    expect(stateName(canceled.status?.state)).toBe("TASK_STATE_CANCELED");
    expect(statusText(canceled)).toBe("canceled by client");
    expect((await rest(`/tasks/${encodeURIComponent(submitted.id)}`)).body).toMatchObject({
      status: "abandoned",
      error: "canceled by client",
    });
    // Canceling again answers the canceled task; a finished task cannot be canceled.
    const twice = await client.cancelTask(CancelTaskRequest.fromJSON({ id: submitted.id }));
    expect(stateName(twice.status?.state)).toBe("TASK_STATE_CANCELED");

    // The worker's sleep still ends; its result is refused by the fence and the task stays canceled.
    await new Promise((r) => setTimeout(r, 3000));
    expect((await rest(`/tasks/${encodeURIComponent(submitted.id)}`)).body).toMatchObject({
      status: "abandoned",
      result: null,
    });
    const later = await client.getTask(GetTaskRequest.fromJSON({ id: submitted.id }));
    expect(stateName(later.status?.state)).toBe("TASK_STATE_CANCELED");

    const done = asTask(await client.sendMessage(taskMessage({ task_type: "echo", payload: { a: 1 } })));
    await expect(client.cancelTask(CancelTaskRequest.fromJSON({ id: done.id }))).rejects.toThrow(
      /not cancelable/i,
    );
  });

  it("SubscribeToTask follows a task submitted over REST through to COMPLETED", async () => {
    const id = `rest-${randomUUID()}`;
    const posted = await rest("/tasks", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ task_id: id, task_type: "sleep", payload: { ms: 700 } }),
    });
    expect(posted.status).toBe(202);
    const events: string[] = [];
    let artifact: Artifact | undefined;
    for await (const event of client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id }))) {
      events.push(describeEvent(event));
      if (event.payload?.$case === "artifactUpdate") artifact = event.payload.value.artifact;
    }
    expect(events[0]).toMatch(/^task:TASK_STATE_(SUBMITTED|WORKING)$/);
    expect(events.at(-1)).toBe("status:TASK_STATE_COMPLETED");
    expect(dataOf(artifact)).toEqual({ slept_ms: 700 });
  });

  it("ListTasks lists Triad's tasks newest first, by state and by context, a page at a time", async () => {
    const contextId = `ctx-${randomUUID()}`;
    const mine = asTask(
      await client.sendMessage(taskMessage({ task_type: "echo", payload: { mine: true } }, { contextId })),
    );
    expect(mine.contextId).toBe(contextId);

    const inContext = await client.listTasks(
      ListTasksRequest.fromJSON({ contextId, includeArtifacts: true }),
    );
    expect(inContext.tasks.map((t) => t.id)).toEqual([mine.id]);
    expect(dataOf(inContext.tasks[0]?.artifacts[0])).toEqual({ mine: true });

    const first = await client.listTasks(
      ListTasksRequest.fromJSON({ status: "TASK_STATE_COMPLETED", pageSize: 2 }),
    );
    expect(first.tasks).toHaveLength(2);
    expect(first.tasks.every((t) => t.status?.state === TaskState.TASK_STATE_COMPLETED)).toBe(true);
    expect(first.tasks[0]?.id).toBe(mine.id); // the newest
    expect(first.tasks[0]?.artifacts).toEqual([]); // artifacts only when asked for
    expect(first.totalSize).toBeGreaterThanOrEqual(4);
    expect(first.nextPageToken).not.toBe("");
    const second = await client.listTasks(
      ListTasksRequest.fromJSON({
        status: "TASK_STATE_COMPLETED",
        pageSize: 2,
        pageToken: first.nextPageToken,
      }),
    );
    expect(second.tasks.length).toBeGreaterThan(0);
    const seen = new Set(first.tasks.map((t) => t.id));
    for (const t of second.tasks) expect(seen.has(t.id)).toBe(false);
  });

  it("ListTasks lists the tasks refused before they became Triad tasks (REJECTED) with the others: order, pages, totalSize, every filter", async () => {
    const contextId = `ctx-rejected-${randomUUID()}`;
    const pause = () => new Promise((r) => setTimeout(r, 5)); // distinct status timestamps
    const send = async (data: unknown) => {
      const task = asTask(await client.sendMessage(taskMessage(data, { contextId })));
      await pause();
      return task;
    };
    const unknown = await send({ task_type: "no_such_type", payload: {} });
    const done = await send({ task_type: "echo", payload: { between: true } });
    const badPayload = await send({ task_type: "compute", payload: [1, 2] });
    expect(stateName(unknown.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(stateName(done.status?.state)).toBe("TASK_STATE_COMPLETED");
    expect(stateName(badPayload.status?.state)).toBe("TASK_STATE_REJECTED");
    const newestFirst = [badPayload.id, done.id, unknown.id];
    const list = (params: object) => client.listTasks(ListTasksRequest.fromJSON(params));

    // By context: all three, newest status first, the refused ones as GetTask shows them.
    const inContext = await list({ contextId });
    expect(inContext.tasks.map((t) => t.id)).toEqual(newestFirst);
    expect(inContext.totalSize).toBe(3);
    expect(inContext.nextPageToken).toBe("");
    const listedUnknown = inContext.tasks[2]!;
    expect(stateName(listedUnknown.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(listedUnknown.contextId).toBe(contextId);
    expect(statusText(listedUnknown)).toMatch(/unknown task type "no_such_type"/);
    expect(listedUnknown.artifacts).toEqual([]);
    const got = await client.getTask(GetTaskRequest.fromJSON({ id: unknown.id }));
    expect(listedUnknown.status?.timestamp).toBe(got.status?.timestamp);
    expect(listedUnknown.history.map((m) => m.messageId)).toEqual(got.history.map((m) => m.messageId));
    expect(listedUnknown.history.length).toBeGreaterThan(0); // the message that was refused, at least

    // A page at a time: the same tasks, each once, then "".
    const paged: string[] = [];
    let pageToken = "";
    for (let pages = 0; pages < 5; pages++) {
      const page = await list({ contextId, pageSize: 1, ...(pageToken ? { pageToken } : {}) });
      expect(page.totalSize).toBe(3);
      paged.push(...page.tasks.map((t) => t.id));
      pageToken = page.nextPageToken;
      if (pageToken === "") break;
    }
    expect(paged).toEqual(newestFirst);

    // The status filter: REJECTED lists the refused ones, COMPLETED does not.
    const rejected = await list({ contextId, status: "TASK_STATE_REJECTED" });
    expect(rejected.tasks.map((t) => t.id)).toEqual([badPayload.id, unknown.id]);
    expect(rejected.totalSize).toBe(2);
    const completed = await list({ contextId, status: "TASK_STATE_COMPLETED" });
    expect(completed.tasks.map((t) => t.id)).toEqual([done.id]);
    const everyRejected = await list({ status: "TASK_STATE_REJECTED", pageSize: 100 });
    expect(everyRejected.tasks.every((t) => t.status?.state === TaskState.TASK_STATE_REJECTED)).toBe(true);
    expect(everyRejected.tasks.map((t) => t.id)).toEqual(expect.arrayContaining([badPayload.id, unknown.id]));
    expect(everyRejected.totalSize).toBeGreaterThanOrEqual(2);

    // Unfiltered: listed among every task, and counted.
    const all = await list({ pageSize: 100 });
    const allIds = all.tasks.map((t) => t.id);
    expect(allIds).toEqual(expect.arrayContaining(newestFirst));
    expect(allIds.indexOf(badPayload.id)).toBeLessThan(allIds.indexOf(done.id));
    expect(allIds.indexOf(done.id)).toBeLessThan(allIds.indexOf(unknown.id));
    expect(all.totalSize).toBeGreaterThanOrEqual(everyRejected.totalSize + completed.totalSize);

    // statusTimestampAfter, historyLength and includeArtifacts as for any task.
    const after = await list({ contextId, statusTimestampAfter: unknown.status?.timestamp });
    expect(after.tasks.map((t) => t.id)).toEqual([badPayload.id, done.id]);
    const noHistory = await list({ contextId, historyLength: 0, includeArtifacts: true });
    for (const t of noHistory.tasks) expect(t.history).toEqual([]);
    expect(noHistory.tasks.map((t) => t.artifacts.length)).toEqual([0, 1, 0]);

    // Another context's filter does not find them.
    expect((await list({ contextId: `${contextId}-other` })).totalSize).toBe(0);
  });

  it("many concurrent SendMessage calls each complete with their own result", async () => {
    const replies = await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client.sendMessage(
          taskMessage({ task_type: "compute", payload: { operation: "product", values: [i, 2] } }),
        ),
      ),
    );
    replies.forEach((reply, i) => {
      const task = asTask(reply);
      expect(stateName(task.status?.state)).toBe("TASK_STATE_COMPLETED");
      expect(dataOf(task.artifacts[0])).toEqual({ result: i * 2 });
    });
    expect(new Set(replies.map((r) => asTask(r).id)).size).toBe(40);
    expect(procs[0]!.output).not.toMatch(/MaxListenersExceeded|Error/);
  });

  it("a message addressed to an existing task is refused: a Triad task takes one message", async () => {
    const done = asTask(await client.sendMessage(taskMessage({ task_type: "echo", payload: {} })));
    await expect(
      client.sendMessage(
        taskMessage({ task_type: "echo", payload: {} }, { taskId: done.id, contextId: done.contextId }),
      ),
    ).rejects.toThrow(/takes one message/);
  });

  it("SIGTERM while a task streams: the stream ends without a verdict and the coordinator exits 0", async () => {
    const coordinator = procs[0]!;
    const events: string[] = [];
    const stream = client.sendMessageStream(taskMessage({ task_type: "sleep", payload: { ms: 30_000 } }));
    const drained = (async () => {
      try {
        for await (const event of stream) {
          events.push(describeEvent(event));
          if (event.payload?.$case === "statusUpdate") coordinator.signal("SIGTERM");
        }
      } catch {
        // The connection may be cut rather than ended; either way the stream is over.
      }
    })();
    await drained;
    expect(events).toContain("status:TASK_STATE_WORKING");
    expect(events.some((e) => /COMPLETED|FAILED|CANCELED/.test(e))).toBe(false);
    expect((await coordinator.exit(15_000)).code).toBe(0);
  });
});

describe("A2A gateway on triad up with TRIAD_API_TOKEN set", () => {
  const TOKEN = "a2a-e2e-token";
  let up: TriadProcess;
  let url = "";

  beforeAll(async () => {
    const port = await freePort();
    up = new TriadProcess(["up", "--tasks", "0", "--keep", "--port", String(port), "--workers", "2"], {
      TRIAD_API_TOKEN: TOKEN,
      TRIAD_LOG_LEVEL: "warn",
    });
    url = (await up.waitFor(/serving at (http:\/\/\S+);/, 30_000))[1]!;
  }, 60_000);

  afterAll(async () => {
    await up?.kill();
  });

  it("the card (public) names a bearer scheme, and the JSON-RPC endpoint wants the token", async () => {
    const res = await fetch(`${url}/.well-known/agent-card.json`);
    expect(res.status).toBe(200);
    const card = (await res.json()) as Record<string, unknown>;
    expect(card.securitySchemes).toEqual({
      bearer: { httpAuthSecurityScheme: { scheme: "Bearer", description: expect.any(String) } },
    });
    expect(card.securityRequirements).toEqual([{ schemes: { bearer: {} } }]);

    const client = await new ClientFactory().createFromUrl(url);
    const seen = await client.getAgentCard();
    expect(seen.securitySchemes.bearer?.scheme?.$case).toBe("httpAuthSecurityScheme");

    const compute = taskMessage({ task_type: "compute", payload: { operation: "max", values: [3, 9, 4] } });
    await expect(client.sendMessage(compute)).rejects.toThrow(/401/);
    await expect(
      client.sendMessage(compute, { serviceParameters: { Authorization: "Bearer wrong" } }),
    ).rejects.toThrow(/401/);

    const auth = { serviceParameters: { Authorization: `Bearer ${TOKEN}` } };
    const task = asTask(await client.sendMessage(compute, auth));
    expect(stateName(task.status?.state)).toBe("TASK_STATE_COMPLETED");
    expect(dataOf(task.artifacts[0])).toEqual({ result: 9 });
    const record = await fetch(`${url}/tasks/${encodeURIComponent(task.id)}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(((await record.json()) as TaskJson).status).toBe("completed");
  });
});

describe("A2A gateway right after a start (coordinator, distributor and worker started together, TRIAD_A2A_TEXT_TYPE=review)", () => {
  const env = { TRIAD_SECRET: "a2a-e2e-secret-0123456789", TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" };
  let redis: Awaited<ReturnType<typeof testRedis>>;
  let coordinator: TriadProcess;
  let distributor: TriadProcess;
  let worker: TriadProcess;
  let url = "";

  const sendRaw = async (parts: unknown[]) => {
    const { answer } = await sendMessageRpc<{ result: { task: Record<string, unknown> } }>(url, { parts });
    return Task.fromJSON(answer.result.task);
  };
  const fetchCard = async () => {
    const res = await fetch(`${url}/.well-known/agent-card.json`);
    const card = (await res.json()) as { description: string; skills: Array<{ id: string }> };
    return { cacheControl: res.headers.get("cache-control"), card };
  };

  beforeAll(async () => {
    redis = await testRedis();
    const [cp, dp, wp] = await Promise.all([freePort(), freePort(), freePort()]);
    url = `http://127.0.0.1:${cp}`;
    const textEnv = { ...env, TRIAD_A2A_TEXT_TYPE: "review" };
    // All three at once, as a compose file or a process manager starts them.
    coordinator = new TriadProcess(
      ["coordinator", "--id", "c2", "--redis", redis.url, "--port", String(cp)],
      textEnv,
    );
    distributor = new TriadProcess(
      ["distributor", "--id", "d2", "--coordinator", url, "--redis", redis.url, "--port", String(dp)],
      env,
    );
    worker = new TriadProcess(
      [
        "worker",
        "--id",
        "w2",
        "--distributor",
        `http://127.0.0.1:${dp}`,
        "--port",
        String(wp),
        "--handlers",
        "examples/handlers.mjs",
      ],
      env,
    );
    await coordinator.waitFor(/ready coordinator/, START_UP_MS);
  }, 60_000);

  afterAll(async () => {
    for (const p of [worker, distributor, coordinator]) await p?.kill();
    await redis?.close();
  });

  it("the first messages wait for the workers' first heartbeats: an unknown type is refused, plain text runs as the review graph; the card says it is partial until they report", async () => {
    // Sent the moment the coordinator is ready, before any worker has reported.
    const [first, unknown, text] = await Promise.all([
      fetchCard(),
      sendRaw([{ data: { task_type: "no_such_type", payload: {} }, mediaType: "application/json" }]),
      sendRaw([{ text: "Triad runs this text through the review graph" }]),
    ]);
    expect(stateName(unknown.status?.state)).toBe("TASK_STATE_REJECTED");
    expect(statusText(unknown)).toMatch(/unknown task type "no_such_type": no live worker runs it/);
    expect(stateName(text.status?.state)).toBe("TASK_STATE_COMPLETED");
    expect(dataOf(text.artifacts[0])).toMatchObject({
      text: "Triad runs this text through the review graph",
      draft: "Summary: Triad runs this text through the review ",
      approved: true,
    });

    // The card never waits: until every worker has reported it says so, and is not cached.
    const firstComplete = first.card.skills.some((s) => s.id === "review");
    expect(first.cacheControl).toBe(firstComplete ? "public, max-age=30" : "no-cache");
    expect(/may be incomplete/.test(first.card.description)).toBe(!firstComplete);
    const complete = await eventually(async () => {
      const seen = await fetchCard();
      return seen.cacheControl === "public, max-age=30" ? seen : undefined;
    }, "a complete, cacheable card");
    expect(complete.card.skills.map((s) => s.id)).toEqual(expect.arrayContaining(["review", "word_count"]));
    expect(complete.card.description).toMatch(/plain text runs as a "review" task/);
    expect(complete.card.description).not.toMatch(/incomplete/);
  });

  it("with no worker reporting, the card says its skills may be incomplete and is not to be cached", async () => {
    await worker.kill();
    const partial = await eventually(async () => {
      const seen = await fetchCard();
      return seen.cacheControl === "no-cache" ? seen : undefined;
    }, "the card to turn partial once the worker is gone");
    expect(partial.card.description).toMatch(/may be incomplete: not every worker has reported/);
    expect(partial.card.skills.map((s) => s.id)).toEqual(BUILTIN);
  });
});
