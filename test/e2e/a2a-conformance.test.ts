import { randomUUID } from "node:crypto";
import {
  CancelTaskRequest,
  GetTaskRequest,
  ListTasksRequest,
  type Message,
  SendMessageRequest,
  type Task,
  TaskState,
} from "@a2a-js/sdk";
import { type Client, ClientFactory } from "@a2a-js/sdk/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/free-port.js";
import { TriadProcess } from "../helpers/processes.js";

/**
 * The A2A conformance kit's (a2aproject/a2a-tck, 1.0) MUST requirements that apply to a
 * JSON-RPC server, checked against `triad up --a2a-text-type echo`: each test is named by the
 * kit's requirement id (docs/A2A-CONFORMANCE.md lists them, with those that cannot pass and
 * why). The SDK's own client drives what it can express; raw HTTP the malformed requests, the
 * exact error codes and the wire form (the kit checks the JSON as sent, not as parsed).
 */

type Json = Record<string, unknown>;
type RpcError = { code: number; message: string; data?: Array<Json> };
type RpcAnswer = { jsonrpc: string; id: unknown; result?: Json; error?: RpcError };

const A2A_VERSION = { "A2A-Version": "1.0" };
const TERMINAL = ["TASK_STATE_COMPLETED", "TASK_STATE_FAILED", "TASK_STATE_CANCELED", "TASK_STATE_REJECTED"];

const textMessage = (text: string, extra: Json = {}) => ({
  role: "ROLE_USER",
  parts: [{ text }],
  messageId: `tck-${randomUUID()}`,
  ...extra,
});
const taskData = (taskType: string, payload: Json) => ({
  role: "ROLE_USER",
  parts: [{ data: { task_type: taskType, payload }, mediaType: "application/json" }],
  messageId: `tck-${randomUUID()}`,
});

function asTask(reply: Message | Task): Task {
  expect(reply).toHaveProperty("status");
  return reply as Task;
}

/** Every key of a protocol object (not of user data: data parts, metadata) is camelCase. */
function nonCamelKeys(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonCamelKeys(v, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = /^[a-z][a-zA-Z0-9]*$/.test(k) ? [] : [`${path}.${k}`];
    return k === "data" || k === "metadata" ? here : [...here, ...nonCamelKeys(v, `${path}.${k}`)];
  });
}

describe("A2A conformance kit, JSON-RPC MUST requirements (triad up --a2a-text-type echo)", () => {
  let up: TriadProcess;
  let url = "";
  let endpoint = "";
  let client: Client;

  /** A raw POST to the JSON-RPC endpoint: the body as given, the A2A-Version the kit sends. */
  const post = async (body: string, headers: Record<string, string> = {}, to = endpoint) => {
    const res = await fetch(to, {
      method: "POST",
      headers: { "content-type": "application/json", ...A2A_VERSION, ...headers },
      body,
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  const rpc = async (method: string, params?: unknown, headers: Record<string, string> = {}) => {
    const id = randomUUID();
    const res = await post(JSON.stringify({ jsonrpc: "2.0", id, method, params }), headers);
    const answer = JSON.parse(res.text) as RpcAnswer;
    expect(answer.id).toBe(id);
    return { ...res, answer };
  };
  const errorOf = async (method: string, params?: unknown, headers: Record<string, string> = {}) => {
    const { status, answer } = await rpc(method, params, headers);
    expect(status).toBe(200);
    expect(answer.result).toBeUndefined();
    return answer.error!;
  };
  /** The events of an SSE answer, each a JSON-RPC response. */
  const sse = async (method: string, params: unknown, signal?: AbortSignal) => {
    const res = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", ...A2A_VERSION },
      body: JSON.stringify({ jsonrpc: "2.0", id: 7, method, params }),
      ...(signal ? { signal } : {}),
    });
    const type = res.headers.get("content-type") ?? "";
    const text = await res.text();
    const events = text
      .split("\n\n")
      .filter((block) => block.startsWith("data:"))
      .map((block) => JSON.parse(block.slice(5)) as RpcAnswer);
    return { type, events };
  };
  const kindOf = (event: RpcAnswer) => {
    const r = event.result ?? {};
    if ("task" in r) return `task:${(r.task as { status: { state: string } }).status.state}`;
    if ("statusUpdate" in r)
      return `status:${(r.statusUpdate as { status: { state: string } }).status.state}`;
    if ("artifactUpdate" in r) return "artifact";
    return Object.keys(r)[0] ?? "error";
  };
  /** A sleep task sent with returnImmediately: its id, while it is still open. */
  const sleepTask = async (ms: number) => {
    const { answer } = await rpc("SendMessage", {
      message: taskData("sleep", { ms }),
      configuration: { returnImmediately: true },
    });
    const task = answer.result?.task as { id: string } | undefined;
    expect(task?.id).toEqual(expect.any(String));
    return task!.id;
  };
  /** An ask_name task, answered blocking: it stops at INPUT_REQUIRED, asking a name. */
  const waitingTask = async (extra: Json = {}) => {
    const message = { ...taskData("ask_name", {}), ...extra };
    const task = asTask(await client.sendMessage(SendMessageRequest.fromJSON({ message })));
    expect(TaskState[task.status!.state]).toBe("TASK_STATE_INPUT_REQUIRED");
    return task;
  };
  const completedTask = async () =>
    asTask(await client.sendMessage(SendMessageRequest.fromJSON({ message: textMessage("Hello from TCK") })));

  beforeAll(async () => {
    const port = await freePort();
    up = new TriadProcess(
      // examples/approval-graph.mjs adds ask_name, a task that waits for input (INPUT_REQUIRED).
      [
        "up",
        "--tasks",
        "0",
        "--keep",
        "--port",
        String(port),
        "--workers",
        "2",
        "--a2a-text-type",
        "echo",
        "--handlers",
        "examples/approval-graph.mjs",
      ],
      { TRIAD_API_TOKEN: "", TRIAD_LOG_LEVEL: "warn" },
    );
    url = (await up.waitFor(/serving at (http:\/\/\S+);/, 30_000))[1]!;
    endpoint = `${url}/a2a/jsonrpc`;
    client = await new ClientFactory().createFromUrl(url);
  }, 60_000);

  afterAll(async () => {
    await up?.kill();
  });

  describe("agent card (section 8)", () => {
    it("CARD-DISC-001, CARD-STRUCT-001, CARD-PROTO-001/002, BIND-FIELD-001: the card is served with its required fields and one JSON-RPC interface", async () => {
      const res = await fetch(`${url}/.well-known/agent-card.json`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^application\/json/);
      const card = (await res.json()) as Json;
      for (const field of ["name", "description", "version", "supportedInterfaces", "capabilities"]) {
        expect(card).toHaveProperty(field);
      }
      expect(card.defaultInputModes).toEqual(["application/json", "text/plain"]);
      expect(card.defaultOutputModes).toEqual(["application/json"]);
      expect((card.skills as Json[]).length).toBeGreaterThan(0);
      for (const skill of card.skills as Json[]) {
        expect(skill).toMatchObject({
          id: expect.any(String),
          name: expect.any(String),
          tags: expect.any(Array),
        });
      }
      expect(card.supportedInterfaces).toEqual([
        { url: endpoint, protocolBinding: "JSONRPC", protocolVersion: "1.0" },
      ]);
    });

    it("CARD-CACHE (SHOULD/MAY): the card carries an ETag and a short max-age once every worker has reported, and a matching If-None-Match is a 304", async () => {
      // Right after a start the card is partial (no-cache) until the workers' first heartbeats.
      const deadline = performance.now() + 10_000;
      let first = await fetch(`${url}/.well-known/agent-card.json`);
      while (first.headers.get("cache-control") === "no-cache" && performance.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        first = await fetch(`${url}/.well-known/agent-card.json`);
      }
      expect(first.headers.get("cache-control")).toBe("public, max-age=30");
      const etag = first.headers.get("etag");
      expect(etag).toMatch(/^W\/".+"$/);
      // fetch() would add Cache-Control: no-cache to a conditional request (an end-to-end reload,
      // which HTTP answers in full); a revalidating client or proxy sends max-age=0 or nothing.
      const again = await fetch(`${url}/.well-known/agent-card.json`, {
        headers: { "if-none-match": etag!, "cache-control": "max-age=0" },
      });
      expect(again.status).toBe(304);
      expect(await again.text()).toBe("");
      const other = await fetch(`${url}/.well-known/agent-card.json`, {
        headers: { "if-none-match": 'W/"x"', "cache-control": "max-age=0" },
      });
      expect(other.status).toBe(200);
    });
  });

  describe("JSON-RPC binding (section 9) and the JSON-RPC 2.0 envelope", () => {
    it("JSONRPC-FMT-001: the endpoint answers with a trailing slash too (/a2a/jsonrpc/), as the kit's client posts", async () => {
      const id = randomUUID();
      const res = await post(
        JSON.stringify({ jsonrpc: "2.0", id, method: "GetTask", params: { id: `nope-${id}` } }),
        {},
        `${endpoint}/`,
      );
      expect(res.status).toBe(200);
      expect(JSON.parse(res.text)).toMatchObject({ jsonrpc: "2.0", id, error: { code: -32001 } });
    });

    it("JSONRPC-FMT-001: malformed envelopes are -32600 Invalid Request, unparseable JSON -32700, with id null when none can be read", async () => {
      // [what, body, code, the id answered: the request's when it can be read, else null]
      const cases: Array<[string, string, number, number | null]> = [
        ["empty body", "", -32600, null],
        ['"jsonrpc": "1.0"', '{"jsonrpc":"1.0","id":1,"method":"GetTask","params":{"id":"x"}}', -32600, 1],
        ['"jsonrpc": "aaa"', '{"jsonrpc":"aaa","method":"SendMessage","params":{}}', -32600, null],
        ["no jsonrpc", '{"id":1,"method":"GetTask","params":{"id":"x"}}', -32600, 1],
        [
          "an array (batch)",
          '[{"jsonrpc":"2.0","id":1,"method":"GetTask","params":{"id":"x"}}]',
          -32600,
          null,
        ],
        ["an empty array", "[]", -32600, null],
        ["a string", '"GetTask"', -32600, null],
        ["a number", "42", -32600, null],
        ["missing method", '{"jsonrpc":"2.0","id":1,"params":{}}', -32600, 1],
        ["method not a string", '{"jsonrpc":"2.0","id":1,"method":7,"params":{}}', -32600, 1],
        [
          "an object id",
          '{"jsonrpc":"2.0","id":{"bad":"type"},"method":"SendMessage","params":{}}',
          -32600,
          null,
        ],
        [
          "a fractional id",
          '{"jsonrpc":"2.0","id":1.5,"method":"GetTask","params":{"id":"x"}}',
          -32600,
          null,
        ],
        [
          "truncated JSON",
          '{"jsonrpc": "2.0", "method": "SendMessage", "params": {"foo": "bar"}',
          -32700,
          null,
        ],
        ["not JSON", "this is not json", -32700, null],
      ];
      for (const [what, body, code, id] of cases) {
        const res = await post(body);
        expect(res.status, what).toBe(200);
        const answer = JSON.parse(res.text) as RpcAnswer;
        expect(answer.jsonrpc, what).toBe("2.0");
        expect(answer.error?.code, what).toBe(code);
        expect(answer.error?.message, what).toEqual(expect.any(String));
        expect(answer.id, what).toBe(id);
        if (code === -32600) {
          // As every -32602 does: an ErrorInfo, here naming the member that was wrong.
          expect(answer.error?.data, what).toEqual([
            {
              "@type": "type.googleapis.com/google.rpc.ErrorInfo",
              reason: "INVALID_REQUEST",
              domain: "a2a-protocol.org",
              metadata: { field: expect.any(String) },
            },
          ]);
        }
      }
      const named = async (body: string) =>
        ((JSON.parse((await post(body)).text) as RpcAnswer).error!.data as Array<{ metadata?: unknown }>)[0]!
          .metadata;
      expect(await named('{"jsonrpc":"1.0","id":1,"method":"GetTask","params":{"id":"x"}}')).toEqual({
        field: "jsonrpc",
      });
      expect(await named('{"jsonrpc":"2.0","id":1,"params":{}}')).toEqual({ field: "method" });
      expect(await named('{"jsonrpc":"2.0","id":1.5,"method":"GetTask","params":{"id":"x"}}')).toEqual({
        field: "id",
      });
      expect(await named("[]")).toEqual({ field: "body" });
    });

    it("JSONRPC-SVC-001, CORE-ERR-001: an unknown method is -32601 with a code and a message; the pre-1.0 slash names are unknown", async () => {
      for (const method of ["NonExistentMethod", "SendMessageXXX", "message/send", "tasks/get"]) {
        const error = await errorOf(method, {});
        expect(error.code, method).toBe(-32601);
        expect(error.message, method).toMatch(/not found/i);
        expect(error.data, method).toEqual([
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "METHOD_NOT_FOUND",
            domain: "a2a-protocol.org",
            metadata: { method },
          },
        ]);
      }
    });

    it("CORE-ERR-002: a ListTasks status filter that is not a task state is -32602 naming what was sent; a state's name or number is taken", async () => {
      for (const bad of ["completed", "BOGUS", "UNRECOGNIZED", -1, 9, 1.5, true, {}]) {
        const shown = typeof bad === "number" ? String(bad) : JSON.stringify(bad);
        const got = await errorOf("ListTasks", { status: bad });
        expect(got, shown).toMatchObject({ code: -32602 });
        expect(got.message, shown).toMatch(
          /^Invalid params: params\.status must be a task state \(TASK_STATE_/,
        );
        expect(got.message, shown).toContain(`got ${shown}`);
      }
      for (const good of ["TASK_STATE_COMPLETED", 3, "TASK_STATE_UNSPECIFIED", null]) {
        const { answer } = await rpc("ListTasks", { status: good });
        expect(answer.error, String(good)).toBeUndefined();
      }
    });

    it("CORE-ERR-002: invalid params are -32602: GetTask, CancelTask and SubscribeToTask with a numeric or missing id, params not an object, an empty key", async () => {
      expect((await errorOf("GetTask", { id: 123 })).code).toBe(-32602);
      expect((await errorOf("GetTask", { id: "" })).code).toBe(-32602);
      expect((await errorOf("GetTask", {})).code).toBe(-32602);
      expect((await errorOf("CancelTask", { id: 5 })).code).toBe(-32602);
      expect((await errorOf("SubscribeToTask", { id: null })).code).toBe(-32602);
      expect((await errorOf("GetTask", [1, 2])).code).toBe(-32602);
      expect((await errorOf("SendMessage", "text")).code).toBe(-32602);
      expect((await errorOf("SendMessage", { "": "not_a_dict" })).code).toBe(-32602);
      expect(await errorOf("SendMessage", {})).toMatchObject({
        code: -32602,
        message: "Invalid params: params.message is required",
      });
      expect((await errorOf("SendStreamingMessage", {})).message).toBe(
        "Invalid params: params.message is required",
      );
      expect((await errorOf("SendMessage", { message: { parts: "invalid" } })).code).toBe(-32602);
    });

    it("JSONRPC-FMT-002: requests and answers are application/json; another Content-Type is refused before it is read", async () => {
      const { headers } = await rpc("GetTask", { id: "nope" });
      expect(headers.get("content-type")).toMatch(/^application\/json/);
      const res = await fetch(endpoint, {
        method: "POST",
        headers: { "content-type": "text/plain", ...A2A_VERSION },
        body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "GetTask", params: { id: "x" } }),
      });
      expect(res.status).toBe(415);
    });

    it("JSONRPC-ERR-001/002/003, JSONRPC-SSE-002: A2A errors have code, message and an ErrorInfo data array, with the codes of section 5.4", async () => {
      const done = await completedTask();
      const errors: Array<[string, RpcError, number, string]> = [
        [
          "TaskNotFoundError",
          await errorOf("GetTask", { id: `nope-${randomUUID()}` }),
          -32001,
          "TASK_NOT_FOUND",
        ],
        [
          "TaskNotCancelableError",
          await errorOf("CancelTask", { id: done.id }),
          -32002,
          "TASK_NOT_CANCELABLE",
        ],
        [
          "PushNotificationNotSupportedError",
          await errorOf("CreateTaskPushNotificationConfig", {
            taskId: done.id,
            url: "https://example.com/hook",
          }),
          -32003,
          "PUSH_NOTIFICATION_NOT_SUPPORTED",
        ],
        [
          "UnsupportedOperationError",
          await errorOf("SendMessage", { message: textMessage("again", { taskId: done.id }) }),
          -32004,
          "UNSUPPORTED_OPERATION",
        ],
        [
          "ContentTypeNotSupportedError",
          await errorOf("SendMessage", {
            message: {
              ...textMessage("x"),
              parts: [{ raw: "dGNr", mediaType: "application/x-unsupported-tck-type" }],
            },
          }),
          -32005,
          "CONTENT_TYPE_NOT_SUPPORTED",
        ],
        [
          "VersionNotSupportedError",
          await errorOf("SendMessage", { message: textMessage("v") }, { "A2A-Version": "99.0" }),
          -32009,
          "VERSION_NOT_SUPPORTED",
        ],
      ];
      for (const [name, error, code, reason] of errors) {
        expect(Object.keys(error).sort(), name).toEqual(["code", "data", "message"]);
        expect(error.code, name).toBe(code);
        expect(error.code >= -32099 && error.code <= -32001, name).toBe(true);
        expect(error.message, name).not.toBe("");
        expect(error.data, name).toEqual([
          expect.objectContaining({
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason,
            domain: "a2a-protocol.org",
          }),
        ]);
      }
    });

    it("JSONRPC-SVC-002, VER-SERVER-002/003: the A2A-Version header is read; 99.0 is -32009, an absent or empty one means 0.3 and gets an answer", async () => {
      expect((await errorOf("GetTask", { id: "nope" }, { "A2A-Version": "99.0" })).code).toBe(-32009);
      const empty = await rpc(
        "SendMessage",
        { message: textMessage("empty version") },
        { "A2A-Version": "" },
      );
      expect(empty.answer.error ?? empty.answer.result).toBeDefined();
      // Patch versions do not matter.
      const patch = await rpc("GetTask", { id: "nope" }, { "A2A-Version": "1.0.3" });
      expect(patch.answer.error?.code).not.toBe(-32009);
    });

    it("JSONRPC-SSE-001: streaming answers are text/event-stream, each data line a JSON-RPC response wrapping a StreamResponse", async () => {
      const { type, events } = await sse("SendStreamingMessage", {
        message: textMessage("Stream hello from TCK"),
      });
      expect(type).toMatch(/^text\/event-stream/);
      expect(events.length).toBeGreaterThanOrEqual(2);
      for (const event of events) {
        expect(event).toMatchObject({ jsonrpc: "2.0", id: 7, result: expect.any(Object) });
        expect(Object.keys(event.result!)).toHaveLength(1);
      }
    });
  });

  describe("core operations (section 3)", () => {
    it("CORE-SEND-001, CORE-MULTI-001a, CORE-MULTI-003, CORE-EXECUTION-MODE-001: a plain-text message runs (as the --a2a-text-type task) and the blocking answer is the finished Task with a server-made id and contextId", async () => {
      const a = await completedTask();
      const b = await completedTask();
      expect(TaskState[a.status!.state]).toBe("TASK_STATE_COMPLETED");
      expect(a.id).not.toBe("");
      expect(a.contextId).not.toBe("");
      expect(b.id).not.toBe(a.id);
      const artifact = a.artifacts[0]?.parts[0]?.content;
      expect(artifact?.$case === "data" && artifact.value).toEqual({ text: "Hello from TCK" });
    });

    it("CORE-MULTI-002 (MAY) and 002a: a client's contextId is kept", async () => {
      const contextId = `tck-client-context-${randomUUID()}`;
      const task = asTask(
        await client.sendMessage(
          SendMessageRequest.fromJSON({ message: textMessage("Message with contextId", { contextId }) }),
        ),
      );
      expect(task.contextId).toBe(contextId);
    });

    it("CORE-EXECUTION-MODE-002: with returnImmediately the answer is the task before it is finished", async () => {
      const { answer } = await rpc("SendMessage", {
        message: taskData("sleep", { ms: 1500 }),
        configuration: { returnImmediately: true },
      });
      const task = answer.result?.task as { status: { state: string } };
      expect(TERMINAL).not.toContain(task.status.state);
    });

    it("CORE-SEND-002, CORE-MULTI-004, CORE-MULTI-006: a message naming an unknown task is TaskNotFoundError; one naming a finished task UnsupportedOperationError; a mismatching contextId an error", async () => {
      const unknown = await errorOf("SendMessage", {
        message: textMessage("Message to invalid task", { taskId: `tck-nonexistent-${randomUUID()}` }),
      });
      expect(unknown.code).toBe(-32001);
      // A refused stream is one JSON answer, not an event stream.
      const raw = await post(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "SendStreamingMessage",
          params: { message: textMessage("to nobody", { taskId: `tck-nonexistent-${randomUUID()}` }) },
        }),
      );
      expect(JSON.parse(raw.text)).toMatchObject({ id: 3, error: { code: -32001 } });

      const done = await completedTask();
      expect(
        (await errorOf("SendMessage", { message: textMessage("Follow-up", { taskId: done.id }) })).code,
      ).toBe(-32004);
      const mismatch = await errorOf("SendMessage", {
        message: textMessage("Follow-up", { taskId: done.id, contextId: `other-${randomUUID()}` }),
      });
      expect(mismatch.code).toBeLessThan(0);
    });

    it("CORE-MULTI-005, CORE-MULTI-006: a message naming a task that waits for input (INPUT_REQUIRED) with its taskId alone continues it in the task's own contextId; a mismatching contextId is refused", async () => {
      const contextId = `tck-context-${randomUUID()}`;
      const waiting = await waitingTask({ contextId });
      expect(waiting.contextId).toBe(contextId);
      // The kit's follow-up: text, taskId only, no contextId.
      const { answer } = await rpc("SendMessage", {
        message: textMessage("Grace", { taskId: waiting.id }),
      });
      expect(answer.error).toBeUndefined();
      const task = answer.result?.task as { id: string; contextId: string; status: { state: string } };
      expect(task.id).toBe(waiting.id);
      expect(task.contextId).toBe(contextId);
      expect(task.status.state).toBe("TASK_STATE_COMPLETED");
      const got = await client.getTask(GetTaskRequest.fromJSON({ id: waiting.id }));
      expect(got.contextId).toBe(contextId);
      const result = got.artifacts[0]?.parts[0]?.content;
      expect(result?.$case === "data" && result.value).toEqual({ greeting: "Hello, Grace!", asked: 1 });
      // A message naming it, now finished, is refused (CORE-SEND-002).
      expect(
        (await errorOf("SendMessage", { message: textMessage("again", { taskId: waiting.id }) })).code,
      ).toBe(-32004);

      // CORE-MULTI-006 on an open task: the wrong contextId is an error, and the task still waits.
      const open = await waitingTask();
      const mismatch = await errorOf("SendMessage", {
        message: textMessage("Ada", { taskId: open.id, contextId: `wrong-context-${randomUUID()}` }),
      });
      expect(mismatch.code).toBeLessThan(0);
      expect(mismatch.message).toMatch(/contextId/);
      const still = await client.getTask(GetTaskRequest.fromJSON({ id: open.id }));
      expect(TaskState[still.status!.state]).toBe("TASK_STATE_INPUT_REQUIRED");
      // Streaming the answer: the stream starts with the task and ends COMPLETED, in its contextId.
      const streamed = await sse("SendStreamingMessage", {
        message: textMessage("Ada", { taskId: open.id }),
      });
      expect(streamed.type).toMatch(/^text\/event-stream/);
      expect(streamed.events.map(kindOf).at(-1)).toBe("status:TASK_STATE_COMPLETED");
      const first = streamed.events[0]?.result?.task as { id: string; contextId: string } | undefined;
      expect(first).toMatchObject({ id: open.id, contextId: open.contextId });
    });

    it("CORE-CANCEL-001 as the kit sets it up: a task waiting for input (INPUT_REQUIRED) is canceled and answered CANCELED", async () => {
      const waiting = await waitingTask();
      const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id: waiting.id }));
      expect(canceled.id).toBe(waiting.id);
      expect(TaskState[canceled.status!.state]).toBe("TASK_STATE_CANCELED");
      // Input for it now is refused: it has ended.
      expect(
        (await errorOf("SendMessage", { message: textMessage("late", { taskId: waiting.id }) })).code,
      ).toBe(-32004);
    });

    it("CORE-GET-001, CORE-HIST-002: GetTask answers the task's state and artifacts; historyLength bounds the history", async () => {
      const done = await completedTask();
      const got = await client.getTask(GetTaskRequest.fromJSON({ id: done.id }));
      expect(got.id).toBe(done.id);
      expect(TaskState[got.status!.state]).toBe("TASK_STATE_COMPLETED");
      expect(got.artifacts).toHaveLength(1);
      expect(got.history.length).toBeGreaterThan(0);
      const bounded = await rpc("GetTask", { id: done.id, historyLength: 0 });
      expect(((bounded.answer.result?.history as unknown[]) ?? []).length).toBe(0);
    });

    it("CORE-ERR-002, CORE-HIST-002: a historyLength that is negative or not an integer is -32602 naming the field (GetTask, ListTasks, SendMessage, SendStreamingMessage)", async () => {
      const done = await completedTask();
      for (const bad of [-1, -100, 1.5, "abc", "-1", "1.5", true, 2147483648, [], {}]) {
        const shown = typeof bad === "number" ? String(bad) : JSON.stringify(bad);
        const wanted = (field: string) => ({
          code: -32602,
          message: expect.stringContaining(`${field} must be an integer from 0`) as unknown as string,
        });
        const got = await errorOf("GetTask", { id: done.id, historyLength: bad });
        expect(got, `GetTask historyLength ${shown}`).toMatchObject(wanted("params.historyLength"));
        // The ErrorInfo every other -32602 carries (the SDK's own).
        expect(got.data).toEqual([
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "INVALID_PARAMS",
            domain: "a2a-protocol.org",
          },
        ]);
        expect(got.message).toContain(`got ${shown}`);
        expect(await errorOf("ListTasks", { historyLength: bad })).toMatchObject(
          wanted("params.historyLength"),
        );
        const send = { message: textMessage("hello"), configuration: { historyLength: bad } };
        expect(await errorOf("SendMessage", send)).toMatchObject(
          wanted("params.configuration.historyLength"),
        );
        expect(await errorOf("SendStreamingMessage", send)).toMatchObject(
          wanted("params.configuration.historyLength"),
        );
      }
      // Zero, a count, a count written as a string (protobuf JSON), and null (unset) are taken.
      for (const ok of [0, 1, "1", null, 2147483647]) {
        const { answer } = await rpc("GetTask", { id: done.id, historyLength: ok });
        expect(answer.error, `historyLength ${JSON.stringify(ok)}`).toBeUndefined();
        expect(answer.result?.id).toBe(done.id);
      }
      const one = await rpc("GetTask", { id: done.id, historyLength: 1 });
      expect(one.answer.result?.history).toHaveLength(1);
    });

    it("CORE-GET-002, CORE-CANCEL-003: an unknown task id is TaskNotFoundError (-32001), through the SDK client too", async () => {
      const id = `tck-nonexistent-${randomUUID()}`;
      expect((await errorOf("GetTask", { id })).code).toBe(-32001);
      expect((await errorOf("CancelTask", { id })).code).toBe(-32001);
      await expect(client.getTask(GetTaskRequest.fromJSON({ id }))).rejects.toMatchObject({
        name: "TaskNotFoundError",
      });
    });

    it("CORE-CANCEL-001, CORE-CANCEL-002: a working task is canceled and answered CANCELED; a finished one is TaskNotCancelableError", async () => {
      const id = await sleepTask(5000);
      const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id }));
      expect(TaskState[canceled.status!.state]).toBe("TASK_STATE_CANCELED");
      const done = await completedTask();
      expect((await errorOf("CancelTask", { id: done.id })).code).toBe(-32002);
    });

    it("CORE-LIST-001..005: ListTasks pages with pageToken/nextPageToken, newest status first, nextPageToken '' on the last page, no artifacts unless asked", async () => {
      const contextId = `tck-list-${randomUUID()}`;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const t = asTask(
          await client.sendMessage(
            SendMessageRequest.fromJSON({ message: textMessage(`list ${i}`, { contextId }) }),
          ),
        );
        ids.push(t.id);
        await new Promise((r) => setTimeout(r, 5)); // distinct status timestamps
      }
      const first = await client.listTasks(ListTasksRequest.fromJSON({ contextId, pageSize: 2 }));
      expect(first.tasks.map((t) => t.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextPageToken).not.toBe("");
      const last = await rpc("ListTasks", { contextId, pageSize: 2, pageToken: first.nextPageToken });
      const result = last.answer.result as { tasks: Json[]; nextPageToken?: string };
      expect(result.tasks.map((t) => t.id)).toEqual([ids[0]]);
      expect(result).toHaveProperty("nextPageToken", "");
      for (const t of result.tasks) expect(t).not.toHaveProperty("artifacts");
      const withArtifacts = await rpc("ListTasks", { contextId, includeArtifacts: true });
      const listed = (withArtifacts.answer.result as { tasks: Json[] }).tasks;
      expect(listed).toHaveLength(3);
      for (const t of listed) expect(t.artifacts).toHaveLength(1);
    });

    it("CORE-LIST-002..005 with a REJECTED task: listed in order and counted, by its state and its context, as GetTask answers it", async () => {
      const contextId = `tck-list-rejected-${randomUUID()}`;
      const refused = asTask(
        await client.sendMessage(
          SendMessageRequest.fromJSON({ message: { ...taskData("no_such_type", {}), contextId } }),
        ),
      );
      expect(TaskState[refused.status!.state]).toBe("TASK_STATE_REJECTED");
      await new Promise((r) => setTimeout(r, 5)); // distinct status timestamps
      const done = asTask(
        await client.sendMessage(
          SendMessageRequest.fromJSON({ message: textMessage("after", { contextId }) }),
        ),
      );
      const first = await client.listTasks(ListTasksRequest.fromJSON({ contextId, pageSize: 1 }));
      expect(first.tasks.map((t) => t.id)).toEqual([done.id]);
      expect(first.totalSize).toBe(2);
      const last = await rpc("ListTasks", { contextId, pageSize: 1, pageToken: first.nextPageToken });
      const result = last.answer.result as { tasks: Json[]; nextPageToken?: string; totalSize: number };
      expect(result.tasks.map((t) => t.id)).toEqual([refused.id]);
      expect(result).toHaveProperty("nextPageToken", "");
      const got = await rpc("GetTask", { id: refused.id });
      expect(result.tasks[0]).toEqual(got.answer.result);
      const byState = await client.listTasks(
        ListTasksRequest.fromJSON({ status: "TASK_STATE_REJECTED", pageSize: 100 }),
      );
      expect(byState.tasks.map((t) => t.id)).toContain(refused.id);
      expect(byState.totalSize).toBeGreaterThanOrEqual(1);
      const unfiltered = await client.listTasks(ListTasksRequest.fromJSON({ pageSize: 100 }));
      expect(unfiltered.tasks.map((t) => t.id)).toContain(refused.id);
    });
  });

  describe("streaming (sections 3.1.2, 3.1.6, 3.5)", () => {
    it("CORE-STREAM-001, CORE-STREAM-003: SendStreamingMessage begins with the Task and closes at its terminal state", async () => {
      const { events } = await sse("SendStreamingMessage", { message: taskData("sleep", { ms: 400 }) });
      const kinds = events.map(kindOf);
      expect(kinds[0]).toMatch(/^task:/);
      expect(kinds.at(-1)).toBe("status:TASK_STATE_COMPLETED");
      expect(kinds.filter((k) => k.startsWith("status:TASK_STATE_COMPLETED"))).toHaveLength(1);
    });

    it("STREAM-SUB-001/002, STREAM-ORDER-001..004: every subscriber gets the Task first, then the same events in order to the end; closing one leaves the others", async () => {
      const id = await sleepTask(1200);
      const quitter = new AbortController();
      const [a, b, c] = await Promise.all([
        sse("SubscribeToTask", { id }),
        sse("SubscribeToTask", { id }),
        (async () => {
          setTimeout(() => quitter.abort(), 200);
          return sse("SubscribeToTask", { id }, quitter.signal).catch(() => "closed" as const);
        })(),
      ]);
      expect(c).toBe("closed");
      for (const stream of [a, b]) {
        const kinds = stream.events.map(kindOf);
        expect(kinds[0]).toMatch(/^task:TASK_STATE_(SUBMITTED|WORKING)$/);
        expect(kinds.slice(-2)).toEqual(["artifact", "status:TASK_STATE_COMPLETED"]);
      }
      expect(a.events.slice(-2)).toEqual(b.events.slice(-2));
    });

    it("STREAM-SUB-003, STREAM-SUB-004: subscribing to a finished task is UnsupportedOperationError, to an unknown one TaskNotFoundError", async () => {
      const done = await completedTask();
      expect((await errorOf("SubscribeToTask", { id: done.id })).code).toBe(-32004);
      expect((await errorOf("SubscribeToTask", { id: `tck-nonexistent-${randomUUID()}` })).code).toBe(-32001);
    });
  });

  describe("capabilities and data model (sections 3.3.4, 4, 5)", () => {
    it("CORE-CAP-001, CORE-CAP-003: push notification methods are -32003 and GetExtendedAgentCard -32004, as the card declares neither", async () => {
      const card = await client.getAgentCard();
      expect(card.capabilities?.pushNotifications).toBe(false);
      expect(card.capabilities?.extendedAgentCard).toBe(false);
      for (const [method, params] of [
        ["CreateTaskPushNotificationConfig", { taskId: "t", url: "https://example.com/hook" }],
        ["GetTaskPushNotificationConfig", { taskId: "t", id: "c" }],
        ["ListTaskPushNotificationConfigs", { taskId: "t" }],
        ["DeleteTaskPushNotificationConfig", { taskId: "t", id: "c" }],
      ] as const) {
        expect((await errorOf(method, params)).code, method).toBe(-32003);
      }
      expect((await errorOf("GetExtendedAgentCard", {})).code).toBe(-32004);
    });

    it("DM-TASK-001/002, DM-STATUS-001, DM-MSG-001/002, DM-PART-001, DM-ART-001, DM-SERIAL-001..004: a task on the wire has its required fields, ProtoJSON enums, camelCase keys, one content per part, UTC ISO-8601 timestamps", async () => {
      const done = await completedTask();
      const { answer } = await rpc("GetTask", { id: done.id });
      const task = answer.result as {
        id: string;
        contextId: string;
        status: { state: string; timestamp: string };
        artifacts: Array<{ artifactId: string; parts: Json[] }>;
        history: Array<{ messageId: string; role: string; parts: Json[] }>;
      };
      expect(task.id).toBe(done.id);
      expect(task.contextId).toEqual(expect.any(String));
      expect(task.status.state).toBe("TASK_STATE_COMPLETED");
      expect(task.status.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(nonCamelKeys(task)).toEqual([]);
      expect(task.artifacts[0]?.artifactId).toBe("result");
      for (const message of task.history) {
        expect(message.messageId).not.toBe("");
        expect(["ROLE_USER", "ROLE_AGENT"]).toContain(message.role);
      }
      const parts = [...task.artifacts.flatMap((a) => a.parts), ...task.history.flatMap((m) => m.parts)];
      expect(parts.length).toBeGreaterThan(0);
      for (const part of parts) {
        expect(Object.keys(part).filter((k) => ["text", "raw", "url", "data"].includes(k))).toHaveLength(1);
      }
    });
  });
});

describe("A2A conformance kit with TRIAD_API_TOKEN set: AUTH-SERVER-002, AUTH-SCOPE-001", () => {
  const TOKEN = "a2a-conformance-token";
  let up: TriadProcess;
  let url = "";

  beforeAll(async () => {
    const port = await freePort();
    up = new TriadProcess(["up", "--tasks", "0", "--keep", "--port", String(port), "--workers", "1"], {
      TRIAD_API_TOKEN: TOKEN,
      TRIAD_LOG_LEVEL: "warn",
    });
    url = (await up.waitFor(/serving at (http:\/\/\S+);/, 30_000))[1]!;
  }, 60_000);

  afterAll(async () => {
    await up?.kill();
  });

  it("every JSON-RPC method wants the token (401 without it, on both spellings of the endpoint); the card stays public", async () => {
    for (const path of ["/a2a/jsonrpc", "/a2a/jsonrpc/"]) {
      for (const method of ["SendMessage", "GetTask", "ListTasks", "CancelTask", "SubscribeToTask"]) {
        const res = await fetch(`${url}${path}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...A2A_VERSION },
          body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params: { id: "x" } }),
        });
        expect(res.status, `${method} ${path}`).toBe(401);
      }
    }
    const authorized = await fetch(`${url}/a2a/jsonrpc/`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${TOKEN}`, ...A2A_VERSION },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ListTasks", params: {} }),
    });
    expect(((await authorized.json()) as RpcAnswer).result).toHaveProperty("tasks");
    expect((await fetch(`${url}/.well-known/agent-card.json`)).status).toBe(200);
  });
});
