import { randomUUID } from "node:crypto";
import { expect } from "vitest";

/**
 * A2A JSON-RPC requests written by hand (not through the A2A SDK's client, which would check or
 * reshape what it sends): the tests of what the gateway does with the wire form.
 */

/**
 * POSTs `{ jsonrpc: "2.0", id, method, params }` to `<baseUrl>/a2a/jsonrpc` with the A2A-Version
 * the gateway wants. Resolves with the HTTP status and the body read as JSON (typed as the
 * caller says: nothing is checked here).
 */
export async function a2aRpc<T>(
  baseUrl: string,
  method: string,
  params: unknown,
  id = 1,
): Promise<{ status: number; answer: T }> {
  const res = await fetch(`${baseUrl}/a2a/jsonrpc`, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0" },
    body: JSON.stringify({ jsonrpc: "2.0", id, method, params }),
  });
  return { status: res.status, answer: (await res.json()) as T };
}

/** a2aRpc's answer, once its status is seen to be 200 (a JSON-RPC error is answered 200 too). */
export async function a2aCall<T>(baseUrl: string, method: string, params: unknown): Promise<T> {
  const { status, answer } = await a2aRpc<T>(baseUrl, method, params);
  expect(status).toBe(200);
  return answer;
}

/** The message of a hand-built SendMessage: a new messageId and ROLE_USER unless given. */
export type RpcMessage = {
  parts: unknown[];
  messageId?: string;
  contextId?: string;
  taskId?: string;
  role?: unknown;
};

/**
 * a2aRpc with `params: { message, configuration, tenant }`: `method` is SendMessage and `id` 1
 * unless given, `configuration` and `tenant` left out unless given.
 */
export async function sendMessageRpc<T>(
  baseUrl: string,
  message: RpcMessage,
  o: { method?: string; id?: number; configuration?: Record<string, unknown>; tenant?: string } = {},
): Promise<{ status: number; answer: T }> {
  const params = {
    message: { messageId: randomUUID(), role: "ROLE_USER", ...message },
    ...(o.configuration === undefined ? {} : { configuration: o.configuration }),
    ...(o.tenant === undefined ? {} : { tenant: o.tenant }),
  };
  return a2aRpc<T>(baseUrl, o.method ?? "SendMessage", params, o.id ?? 1);
}

/** A data part carrying a task: `{ data: { task_type, payload }, mediaType: "application/json" }`. */
export const taskPart = (taskType: string, payload: unknown = {}) => ({
  data: { task_type: taskType, payload },
  mediaType: "application/json",
});
