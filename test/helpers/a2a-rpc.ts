import { randomUUID } from "node:crypto";

/**
 * A SendMessage written by hand as JSON-RPC (not through the A2A SDK's client, which would
 * check or reshape what it sends): the tests of what the gateway does with the wire form.
 */

/** The message of a hand-built SendMessage: a new messageId and ROLE_USER unless given. */
export type RpcMessage = {
  parts: unknown[];
  messageId?: string;
  contextId?: string;
  taskId?: string;
  role?: unknown;
};

/**
 * POSTs `{ jsonrpc: "2.0", id, method, params: { message, configuration, tenant } }` to
 * `<baseUrl>/a2a/jsonrpc` with the A2A-Version the gateway wants; `method` is SendMessage and
 * `id` 1 unless given, `configuration` and `tenant` left out unless given. Resolves with the
 * HTTP status and the body read as JSON (typed as the caller says: nothing is checked here).
 */
export async function sendMessageRpc<T>(
  baseUrl: string,
  message: RpcMessage,
  o: { method?: string; id?: number; configuration?: Record<string, unknown>; tenant?: string } = {},
): Promise<{ status: number; answer: T }> {
  const res = await fetch(`${baseUrl}/a2a/jsonrpc`, {
    method: "POST",
    headers: { "content-type": "application/json", "a2a-version": "1.0" },
    body: JSON.stringify({
      jsonrpc: "2.0",
      id: o.id ?? 1,
      method: o.method ?? "SendMessage",
      params: {
        message: { messageId: randomUUID(), role: "ROLE_USER", ...message },
        ...(o.configuration === undefined ? {} : { configuration: o.configuration }),
        ...(o.tenant === undefined ? {} : { tenant: o.tenant }),
      },
    }),
  });
  return { status: res.status, answer: (await res.json()) as T };
}

/** A data part carrying a task: `{ data: { task_type, payload }, mediaType: "application/json" }`. */
export const taskPart = (taskType: string, payload: unknown = {}) => ({
  data: { task_type: taskType, payload },
  mediaType: "application/json",
});
