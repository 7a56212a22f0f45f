import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  A2A_VERSION,
  completedTask,
  conformanceTriad,
  endpoint,
  errorOf,
  type Json,
  post,
  type RpcAnswer,
  type RpcError,
  rpc,
  sse,
  textMessage,
  url,
} from "../helpers/a2a-conformance-kit.js";
import { freePort } from "../helpers/free-port.js";
import { TriadProcess } from "../helpers/processes.js";

/**
 * The A2A conformance kit's (a2aproject/a2a-tck, 1.0) MUST requirements that apply to a
 * JSON-RPC server, checked against `triad up --a2a-text-type echo`: each test is named by the
 * kit's requirement id (docs/A2A-CONFORMANCE.md lists them, with those that cannot pass and
 * why). The SDK's own client drives what it can express; raw HTTP the malformed requests, the
 * exact error codes and the wire form (the kit checks the JSON as sent, not as parsed).
 *
 * This file: the agent card and the JSON-RPC binding (sections 8, 9), and the token; the core
 * operations, streaming and the data model are in a2a-conformance-operations.test.ts. Both run
 * against a process of their own (conformanceTriad, test/helpers/a2a-conformance-kit.ts).
 */

describe("A2A conformance kit, JSON-RPC MUST requirements (triad up --a2a-text-type echo)", () => {
  conformanceTriad();

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
