import { createHash } from "node:crypto";
import type { SendMessageRequest } from "@a2a-js/sdk";
import type { ServerCallContext } from "@a2a-js/sdk/server";
import type { CoordinatorAgent } from "../../agents/index.js";
import { defineScript } from "../../core/store/index.js";

/**
 * The tasks clients' messages started, by message: A2A's messageId names a message, so the
 * same message sent twice (a retry after a timeout, to this coordinator or to another) is one
 * task, not two. The claim is one script in the store every coordinator shares (the first send
 * wins), kept as long as the ledger keeps a finished task; it is named by the sender (the
 * authenticated user), the request's A2A tenant (absent: none), the message's own contextId
 * (absent: none) and its messageId. The gateway serves no tenants of its own (its card names
 * none) but a client may send one: two tenants' clients picking the same messageId are two
 * messages, and neither is answered with the other's task.
 *
 * The request handler notes each new message's claim name against the request's call context
 * (note), before the SDK makes up a task id; the executor claims it with that id (claim), and
 * learns the task an earlier send started when there is one.
 */
export class MessageClaims {
  private readonly names = new WeakMap<ServerCallContext, string>();

  constructor(private readonly coordinator: Pick<CoordinatorAgent, "store" | "ledger">) {}

  /** Notes the message a request sends as new (no taskId), for claim(). */
  note(params: SendMessageRequest, context: ServerCallContext): void {
    const message = params.message;
    if (message === undefined || message.taskId || !message.messageId) return;
    this.names.set(
      context,
      claimName(context.user?.userName ?? "", message.contextId, message.messageId, params.tenant),
    );
  }

  /**
   * The task the request's message belongs to: `taskId` when this is its first send (or it was
   * not noted), else the task the first send claimed.
   */
  async claim(context: ServerCallContext, taskId: string): Promise<string> {
    const name = this.names.get(context);
    if (name === undefined) return taskId;
    const ttlMs = Math.max(1, this.coordinator.ledger.retentionMs);
    const owner = await this.coordinator.store.runScript(claimMessage, [name], [taskId, ttlMs]);
    return typeof owner === "string" && owner !== "" ? owner : taskId;
  }
}

/**
 * The claim's key: a fixed-size digest (a client may make its ids as long as it likes). The
 * tenant is in it only when there is one, so a message without one keeps the name it had
 * before tenants were (a retry reaching a coordinator of the previous release finds its claim).
 */
export function claimName(user: string, contextId: string, messageId: string, tenant = ""): string {
  const named = tenant === "" ? [user, contextId, messageId] : [user, contextId, messageId, tenant];
  const digest = createHash("sha256").update(JSON.stringify(named)).digest("base64url");
  return `a2a:message:${digest}`;
}

/** Exported for the tests. */
export const claimMessage = defineScript(import.meta.url, "claim-message-1.lua", (db, [key], args) => {
  const [taskId, ttl] = args as [string, string];
  const owner = db.get(key!);
  if (owner !== null) return owner;
  db.set(key!, taskId, { px: Number(ttl) });
  return taskId;
});
