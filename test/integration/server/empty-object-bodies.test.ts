import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";

/**
 * A body `{}` is not an empty body: its answer names what is missing. The A2A endpoint said
 * "the body is empty" of it (as of a body with no bytes, which it still says); POST /tasks said
 * "expected string, received undefined" of its task_type.
 */

type Answer = { status: number; json: Record<string, unknown> };

describe("a body {} is answered naming the member it lacks", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  const post = async (path: string, body: string): Promise<Answer> => {
    const res = await fetch(`${server.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    cluster = new TestCluster({ url: `memory://empty-object-bodies-${process.pid}` });
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0, a2aStartupSettleMs: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("A2A JSON-RPC: {} is -32600 naming jsonrpc and method; a body with no bytes is still 'empty'", async () => {
    for (const body of ["{}", " { } "]) {
      const answer = await post("/a2a/jsonrpc", body);
      expect(answer.status).toBe(200);
      expect(answer.json.error).toMatchObject({
        code: -32600,
        message:
          'Invalid Request: the object has no "jsonrpc" and no "method" (both required); send one {"jsonrpc": "2.0", "id", "method", "params"} object',
        data: [expect.objectContaining({ reason: "INVALID_REQUEST", metadata: { field: "jsonrpc" } })],
      });
    }
    const empty = await post("/a2a/jsonrpc", "");
    expect(empty.json.error).toMatchObject({
      code: -32600,
      message: expect.stringMatching(/^Invalid Request: the body is empty; /),
    });
  });

  it("POST /tasks: {} is a 422 saying task_type is required, in a batch too", async () => {
    const one = await post("/tasks", "{}");
    expect(one.status).toBe(422);
    expect(one.json.error).toEqual({
      code: "ERR_INVALID_TASK",
      message: 'task_type: required (the task type, which handler runs it: "echo", "compute", or yours)',
    });
    const batch = await post("/tasks", '[{"task_type":"echo"},{}]');
    expect(batch.status).toBe(422);
    expect(batch.json.error).toMatchObject({
      message: expect.stringMatching(/^\[1\]\.task_type: required /),
    });
    // A type that is there but not a string is still said to be the wrong kind.
    const wrong = await post("/tasks", '{"task_type":5}');
    expect(wrong.json.error).toMatchObject({ message: expect.stringMatching(/^task_type: .*string/) });
  });
});
