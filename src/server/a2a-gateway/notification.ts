import type { Response } from "express";
import { isPlainObject } from "../../core/json.js";

/**
 * JSON-RPC 2.0 notifications: a request object without an `id` member. "The Server MUST NOT
 * reply to a Notification" — not with its result, not with its error (the client cannot be told
 * of either). It is still a call: it runs as its request would (a SendMessage starts its task,
 * a CancelTask cancels), and the HTTP exchange ends with 204 and no body once the call is taken.
 * A call that would hold the connection open for an answer nobody reads does not: a SendMessage
 * (or SendStreamingMessage) runs as a SendMessage with `returnImmediately`, and a stream is
 * closed at once (SubscribeToTask changes nothing).
 */
export function isNotification(body: unknown): body is Record<string, unknown> {
  return isPlainObject(body) && !Object.hasOwn(body, "id");
}

/** The call a notification runs: a message is sent without waiting for its task's end. */
export function notificationCall(body: Record<string, unknown>): Record<string, unknown> {
  if (body.method !== "SendMessage" && body.method !== "SendStreamingMessage") return body;
  const params = isPlainObject(body.params) ? body.params : {};
  const configuration = isPlainObject(params.configuration) ? params.configuration : {};
  return {
    ...body,
    method: "SendMessage",
    params: { ...params, configuration: { ...configuration, returnImmediately: true } },
  };
}

/** The end of a notification's exchange: 204, no body. */
export function answerNotification(res: Response): void {
  if (!res.headersSent) res.status(204).end();
  else if (!res.writableEnded) res.end();
}
