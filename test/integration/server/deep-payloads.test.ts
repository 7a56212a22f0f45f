import { randomUUID } from "node:crypto";
import { SendMessageRequest } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type JsonObject, MAX_PAYLOAD_DEPTH } from "../../../src/index.js";
import type { RunningServer } from "../../../src/server/coordinator-server.js";
import { sendMessageRpc, taskPart } from "../../helpers/a2a-rpc.js";
import type { TestCluster } from "../../helpers/cluster.js";
import { servedCluster } from "../../helpers/served-cluster.js";

/**
 * A payload nested deeper than a task may be is refused where it enters, at once and with the
 * reason — never accepted to go round for ever (issue 21, item 3). JSON nested thousands of
 * levels deep is a 422, not a 500 from a schema whose walk overflowed the stack.
 */

/** A POST's JSON answer: a task, a REST error, or a JSON-RPC reply. */
type Answer = {
  task_id: string;
  error: { code: string | number; message: string };
};

/** `levels` containers deep: { a: { a: ... { a: 1 } } }. */
const deep = (levels: number): JsonObject => {
  let v: JsonObject = { a: 1 };
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
};

describe("payload depth at the coordinator's HTTP entries", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const post = async (body: string | unknown, path = "/tasks") => {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: typeof body === "string" ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Answer };
  };

  beforeAll(async () => {
    ({ cluster, server } = await servedCluster("deep-payloads"));
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("POST /tasks refuses a payload deeper than the limit, 422 naming the task; nothing is recorded", async () => {
    const id = `deep-${randomUUID()}`;
    const one = await post({ task_id: id, task_type: "echo", payload: deep(MAX_PAYLOAD_DEPTH + 1) });
    expect(one.status).toBe(422);
    expect(one.body.error).toEqual({
      code: "ERR_INVALID_TASK",
      message: expect.stringMatching(
        new RegExp(`^payload is nested more than 32 levels deep.*\\(task "${id}"\\)$`),
      ),
    });
    const innocent = `ok-${randomUUID()}`;
    const batch = await post([
      { task_id: innocent, task_type: "echo", payload: {} },
      { task_id: id, task_type: "echo", payload: deep(60) },
    ]);
    expect(batch.status).toBe(422);
    expect(batch.body.error.message).toMatch(
      new RegExp(`^\\[1\\]\\.payload is nested more than 32.*"${id}"`),
    );
    for (const t of [id, innocent]) expect(await cluster.coordinator.ledger.get(t)).toBeNull();
  });

  it("POST /tasks answers JSON thousands of levels deep with 422, not 500, and serves on", async () => {
    for (const levels of [10_000, 100_000]) {
      const payload = `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
      const answer = await post(`{"task_type":"echo","payload":${payload}}`);
      expect(answer.status).toBe(422);
      expect(answer.body.error.code).toBe("ERR_JSON_TOO_DEEP");
      const array = await post(`${"[".repeat(levels)}${"]".repeat(levels)}`);
      expect(array.status).toBe(422);
    }
    const ok = await post({ task_type: "echo", payload: deep(MAX_PAYLOAD_DEPTH) });
    expect(ok.status).toBe(202);
    const done = await cluster.coordinator.waitForTask(ok.body.task_id, 10_000);
    expect(done).toMatchObject({ status: "completed", result: deep(MAX_PAYLOAD_DEPTH) });
  });

  it("the A2A gateway answers SendMessage with a payload too deep with a JSON-RPC error, at once", async () => {
    const client = await new ClientFactory().createFromUrl(server.url);
    const message = (payload: JsonObject) =>
      SendMessageRequest.fromJSON({
        message: {
          messageId: randomUUID(),
          role: "ROLE_USER",
          parts: [{ data: { task_type: "echo", payload }, mediaType: "application/json" }],
        },
      });
    const started = performance.now();
    await expect(client.sendMessage(message(deep(60)))).rejects.toThrow(
      /payload is nested more than 32 levels deep/,
    );
    const stream = client.sendMessageStream(message(deep(250)));
    await expect(
      (async () => {
        for await (const _ of stream) {
          // the error comes instead of the first event
        }
      })(),
    ).rejects.toThrow(/payload is nested more than 32 levels deep/);
    expect(performance.now() - started).toBeLessThan(5_000);

    // The wire form: JSON-RPC "invalid params".
    const rpc = await sendMessageRpc<Answer>(server.url, { parts: [taskPart("echo", deep(40))] }, { id: 7 });
    expect(rpc.answer).toMatchObject({ jsonrpc: "2.0", id: 7, error: { code: -32602 } });

    const atLimit = await client.sendMessage(message(deep(MAX_PAYLOAD_DEPTH)));
    expect(atLimit).toHaveProperty("status");
  });

  it("the A2A gateway answers a payload 10,000 levels deep with the same JSON-RPC error, and serves on", async () => {
    const payload = `${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`;
    const body = `{"jsonrpc":"2.0","id":8,"method":"SendMessage","params":{"message":{"messageId":"${randomUUID()}","role":"ROLE_USER","parts":[{"data":{"task_type":"echo","payload":${payload}}}]}}}`;
    const answer = await post(body, "/a2a/jsonrpc");
    expect(answer.body).toMatchObject({
      id: 8,
      error: { code: -32602, message: expect.stringMatching(/payload is nested more than 32 levels deep/) },
    });
    const card = await fetch(`${server.url}/.well-known/agent-card.json`);
    expect(card.status).toBe(200);
  });

  it("the A2A endpoint takes a body as large as POST /tasks does (1 MiB), and answers a larger one 413", async () => {
    const send = (bytes: number) =>
      sendMessageRpc<Answer>(
        server.url,
        { parts: [{ data: { task_type: "echo", payload: { blob: "x".repeat(bytes) } } }] },
        { id: 10, configuration: { returnImmediately: true } },
      );
    // 300 KB: express.json's own default (100 KB) answered it 413.
    const taken = await send(300_000);
    expect(taken.status).toBe(200);
    expect(taken.answer).toMatchObject({ id: 10, result: { task: { id: expect.any(String) } } });
    const tooLarge = await fetch(`${server.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 11,
        method: "SendMessage",
        params: { blob: "x".repeat(1_100_000) },
      }),
    });
    expect(tooLarge.status).toBe(413);
  });

  it('a member named "__proto__" is refused naming where it is (a schema would drop it without a word)', async () => {
    const id = `proto-${randomUUID()}`;
    for (const [body, where] of [
      [
        `{"task_id":"${id}","task_type":"echo","payload":{"a":{"__proto__":{"x":1}},"b":1}}`,
        "payload.a.__proto__",
      ],
      [`[{"task_id":"${id}","task_type":"echo","payload":{"\\u005f_proto__":1}}]`, "[0].payload.__proto__"],
    ]) {
      const answer = await post(body);
      expect(answer.status, body).toBe(422);
      expect(answer.body.error).toEqual({
        code: "ERR_RESERVED_KEY",
        message: expect.stringContaining(where!),
      });
    }
    expect(await cluster.coordinator.ledger.get(id)).toBeNull();
    // A payload that only mentions it in a value, or with other escapes, is taken as it is.
    const fine = await post(`{"task_type":"echo","payload":{"note":"__proto__","e":"\\u00e9"}}`);
    expect(fine.status).toBe(202);
    const done = await cluster.coordinator.waitForTask(fine.body.task_id, 10_000);
    expect(done).toMatchObject({ status: "completed", result: { note: "__proto__", e: "é" } });

    const rpc = await post(
      `{"jsonrpc":"2.0","id":9,"method":"SendMessage","params":{"message":{"messageId":"${randomUUID()}","role":"ROLE_USER","parts":[{"data":{"task_type":"echo","payload":{"__proto__":{"x":1}}}}]}}}`,
      "/a2a/jsonrpc",
    );
    expect(rpc.body).toMatchObject({
      id: 9,
      error: { code: -32602, message: expect.stringContaining("payload.__proto__") },
    });
  });
});
