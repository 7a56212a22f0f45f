import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { JsonValue, Task, TaskHandler } from "../../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../../src/server/coordinator-server.js";
import { TestCluster } from "../../helpers/cluster.js";
import { until } from "../../helpers/wait.js";

/**
 * What the A2A gateway takes from a client and how it answers, where the protocol has a rule:
 * a client's message is the user's (ROLE_AGENT is refused, naming the field); a finished task
 * is named by its state's name when it cannot be subscribed to; and a JSON-RPC notification
 * (a request without an id) is run but never answered (204, no body), as JSON-RPC 2.0 says.
 */

type RpcError = { code: number; message: string; data?: Array<{ metadata?: Record<string, string> }> };
type RpcAnswer = {
  id?: unknown;
  result?: { task?: { id: string; status: { state: string } } };
  error?: RpcError;
};

describe("A2A client rules", () => {
  let cluster: TestCluster;
  let server: RunningServer;
  /** Runs of the `count` handler, by the payload's tag. */
  const runs = new Map<string, number>();

  const post = async (body: unknown) => {
    const res = await fetch(`${server.url}/a2a/jsonrpc`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify(body),
    });
    return { status: res.status, text: await res.text() };
  };
  const rpc = async (method: string, params: unknown): Promise<RpcAnswer> => {
    const res = await post({ jsonrpc: "2.0", id: 1, method, params });
    expect(res.status).toBe(200);
    return JSON.parse(res.text) as RpcAnswer;
  };
  const message = (tag: string, role: unknown = "ROLE_USER") => ({
    messageId: randomUUID(),
    role,
    parts: [{ data: { task_type: "count", payload: { tag } }, mediaType: "application/json" }],
  });

  beforeAll(async () => {
    const count = (task: Task): JsonValue => {
      const tag = String((task.payload as { tag?: unknown }).tag);
      runs.set(tag, (runs.get(tag) ?? 0) + 1);
      return { tag };
    };
    cluster = new TestCluster(
      { url: `memory://a2a-client-rules-${process.pid}` },
      { handlers: { count } as Record<string, TaskHandler<Task>> },
    );
    await cluster.startOne();
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  it("a message from the agent's role is refused with InvalidParams naming params.message.role; nothing runs", async () => {
    for (const [i, role] of ["ROLE_AGENT", 2, "agent"].entries()) {
      for (const method of ["SendMessage", "SendStreamingMessage"]) {
        const answer = await rpc(method, { message: message(`agent-${i}`, role) });
        expect(answer.result, `${method} ${role}`).toBeUndefined();
        expect(answer.error?.code, `${method} ${role}`).toBe(-32602);
        expect(answer.error?.message).toContain("params.message.role");
        expect(answer.error?.message).toContain(JSON.stringify(role));
        expect(answer.error?.data?.[0]?.metadata).toEqual({ field: "params.message.role" });
      }
    }
    const user = await rpc("SendMessage", { message: message("user") });
    expect(user.result?.task?.status.state).toBe("TASK_STATE_COMPLETED");
    expect(runs.get("user")).toBe(1);
    expect([0, 1, 2].map((i) => runs.get(`agent-${i}`))).toEqual([undefined, undefined, undefined]);
  });

  it("SubscribeToTask of a finished task names its state (completed), not the enum's number", async () => {
    const done = await rpc("SendMessage", { message: message("finished") });
    const id = done.result!.task!.id;
    const answer = await rpc("SubscribeToTask", { id });
    expect(answer.error?.code).toBe(-32004);
    expect(answer.error?.message).toContain("(completed)");
    expect(answer.error?.message).not.toMatch(/\(\d+\)/);
  });

  it("a notification (no id) is run and not answered: 204, no body, whatever it asked", async () => {
    const sent = await post({
      jsonrpc: "2.0",
      method: "SendMessage",
      params: { message: message("notified") },
    });
    expect(sent).toEqual({ status: 204, text: "" });
    await until("the notified message's task ran", () => runs.get("notified") === 1, 20_000);
    const streamed = await post({
      jsonrpc: "2.0",
      method: "SendStreamingMessage",
      params: { message: message("notified-stream") },
    });
    expect(streamed).toEqual({ status: 204, text: "" });
    await until("the streamed notification's task ran", () => runs.get("notified-stream") === 1, 20_000);
    // Its errors are not answered either: an unknown task, an unknown method, bad params.
    for (const body of [
      { jsonrpc: "2.0", method: "GetTask", params: { id: "no-such-task" } },
      { jsonrpc: "2.0", method: "SubscribeToTask", params: { id: "no-such-task" } },
      { jsonrpc: "2.0", method: "NoSuchMethod", params: {} },
      { jsonrpc: "2.0", method: "GetTask", params: { id: 7 } },
      { jsonrpc: "2.0", method: "SendMessage", params: { message: message("agent-note", "ROLE_AGENT") } },
    ]) {
      expect(await post(body), JSON.stringify(body)).toEqual({ status: 204, text: "" });
    }
    // A body that is no request object is still answered (-32600), as is an id of null.
    const bad = await post({ jsonrpc: "1.0", method: "GetTask", params: { id: "x" } });
    expect(JSON.parse(bad.text)).toMatchObject({ id: null, error: { code: -32600 } });
    const nullId = await post({
      jsonrpc: "2.0",
      id: null,
      method: "GetTask",
      params: { id: "no-such-task" },
    });
    expect(JSON.parse(nullId.text)).toMatchObject({ id: null, error: { code: -32001 } });
    expect(runs.get("agent-note")).toBeUndefined();
  });
});
