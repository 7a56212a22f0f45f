import { randomUUID } from "node:crypto";
import { type Message, SendMessageRequest, type Task, TaskState } from "@a2a-js/sdk";
import { type Client, ClientFactory } from "@a2a-js/sdk/client";
import { afterAll, beforeAll, expect } from "vitest";
import { freePort } from "./free-port.js";
import { TriadProcess } from "./processes.js";

/**
 * What the A2A conformance kit's checks (test/e2e/a2a-conformance*.test.ts) share: the messages
 * and wire shapes they send and read, and `conformanceTriad()`, the `triad up --a2a-text-type
 * echo` they run against with the raw JSON-RPC calls on it. `url`, `endpoint` and `client` are
 * that process's, set by its beforeAll (live bindings: read them inside a test, not at import).
 */

export type Json = Record<string, unknown>;
export type RpcError = { code: number; message: string; data?: Array<Json> };
export type RpcAnswer = { jsonrpc: string; id: unknown; result?: Json; error?: RpcError };

export const A2A_VERSION = { "A2A-Version": "1.0" };
export const TERMINAL = [
  "TASK_STATE_COMPLETED",
  "TASK_STATE_FAILED",
  "TASK_STATE_CANCELED",
  "TASK_STATE_REJECTED",
];

export const textMessage = (text: string, extra: Json = {}) => ({
  role: "ROLE_USER",
  parts: [{ text }],
  messageId: `tck-${randomUUID()}`,
  ...extra,
});
export const taskData = (taskType: string, payload: Json) => ({
  role: "ROLE_USER",
  parts: [{ data: { task_type: taskType, payload }, mediaType: "application/json" }],
  messageId: `tck-${randomUUID()}`,
});

export function asTask(reply: Message | Task): Task {
  expect(reply).toHaveProperty("status");
  return reply as Task;
}

/** Every key of a protocol object (not of user data: data parts, metadata) is camelCase. */
export function nonCamelKeys(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.flatMap((v, i) => nonCamelKeys(v, `${path}[${i}]`));
  if (typeof value !== "object" || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const here = /^[a-z][a-zA-Z0-9]*$/.test(k) ? [] : [`${path}.${k}`];
    return k === "data" || k === "metadata" ? here : [...here, ...nonCamelKeys(v, `${path}.${k}`)];
  });
}

export let url = "";
export let endpoint = "";
export let client: Client;

/** Starts `triad up --a2a-text-type echo` (with examples/approval-graph.mjs) before the tests of the calling describe, stops it after. */
export function conformanceTriad(): void {
  let up: TriadProcess;
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
}

/** A raw POST to the JSON-RPC endpoint: the body as given, the A2A-Version the kit sends. */
export const post = async (body: string, headers: Record<string, string> = {}, to = endpoint) => {
  const res = await fetch(to, {
    method: "POST",
    headers: { "content-type": "application/json", ...A2A_VERSION, ...headers },
    body,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
};
export const rpc = async (method: string, params?: unknown, headers: Record<string, string> = {}) => {
  const id = randomUUID();
  const res = await post(JSON.stringify({ jsonrpc: "2.0", id, method, params }), headers);
  const answer = JSON.parse(res.text) as RpcAnswer;
  expect(answer.id).toBe(id);
  return { ...res, answer };
};
export const errorOf = async (method: string, params?: unknown, headers: Record<string, string> = {}) => {
  const { status, answer } = await rpc(method, params, headers);
  expect(status).toBe(200);
  expect(answer.result).toBeUndefined();
  return answer.error!;
};
/** The events of an SSE answer, each a JSON-RPC response. */
export const sse = async (method: string, params: unknown, signal?: AbortSignal) => {
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
export const kindOf = (event: RpcAnswer) => {
  const r = event.result ?? {};
  if ("task" in r) return `task:${(r.task as { status: { state: string } }).status.state}`;
  if ("statusUpdate" in r) return `status:${(r.statusUpdate as { status: { state: string } }).status.state}`;
  if ("artifactUpdate" in r) return "artifact";
  return Object.keys(r)[0] ?? "error";
};
/** A sleep task sent with returnImmediately: its id, while it is still open. */
export const sleepTask = async (ms: number) => {
  const { answer } = await rpc("SendMessage", {
    message: taskData("sleep", { ms }),
    configuration: { returnImmediately: true },
  });
  const task = answer.result?.task as { id: string } | undefined;
  expect(task?.id).toEqual(expect.any(String));
  return task!.id;
};
/** An ask_name task, answered blocking: it stops at INPUT_REQUIRED, asking a name. */
export const waitingTask = async (extra: Json = {}) => {
  const message = { ...taskData("ask_name", {}), ...extra };
  const task = asTask(await client.sendMessage(SendMessageRequest.fromJSON({ message })));
  expect(TaskState[task.status!.state]).toBe("TASK_STATE_INPUT_REQUIRED");
  return task;
};
export const completedTask = async () =>
  asTask(await client.sendMessage(SendMessageRequest.fromJSON({ message: textMessage("Hello from TCK") })));
