import type { SendMessageRequest } from "@a2a-js/sdk";
import type { ServerCallContext } from "@a2a-js/sdk/server";
import { claimName } from "./message-claims.js";

/**
 * What carries a request's message from the request handler to the executor (its held
 * references, the refusal the executor noted) is named as the message's claim is: by the
 * sender, the request's tenant, the message's own contextId and its messageId (claimName). By messageId alone, two
 * senders (or contexts) sending the same messageId at once took each other's. The handler
 * notes the key against the request's call context (the executor sees the same object, and
 * the SDK may have filled in a contextId the client did not send).
 */
const keys = new WeakMap<ServerCallContext, string>();

/** The key of the message `params` sends, noted against `context` for messageKeyOf. */
export function noteMessageKey(params: SendMessageRequest, context: ServerCallContext): string | undefined {
  const message = params.message;
  if (message === undefined || !message.messageId) return undefined;
  const key = claimName(context.user?.userName ?? "", message.contextId, message.messageId, params.tenant);
  keys.set(context, key);
  return key;
}

/** The key noted for the request of `context`, if its message has one. */
export function messageKeyOf(context: ServerCallContext | undefined): string | undefined {
  return context === undefined ? undefined : keys.get(context);
}
