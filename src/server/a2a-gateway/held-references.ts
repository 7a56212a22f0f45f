import type { Message, SendMessageRequest } from "@a2a-js/sdk";

/** Messages whose references are held at most (a request that ends early may leave its own). */
const MAX_KEPT = 1000;

/**
 * A message's `referenceTaskIds`, kept from the SDK's request handler and given back to the
 * message the task's history keeps. The SDK reads every referenced task from the store before
 * the executor runs, and warns on the console for each it cannot find: one message naming
 * thousands of ids cost thousands of store reads and as many lines on stderr. Triad does not
 * read references; the task's history shows them as the client sent them.
 */
export class HeldReferences {
  private readonly byMessage = new Map<string, string[]>();

  /**
   * `params` without its message's references (the same object when it names none), kept under
   * the message's key (message-keys.ts: sender, contextId and messageId), or not at all without one.
   */
  hold(params: SendMessageRequest, key: string | undefined): SendMessageRequest {
    const message = params.message;
    if (message === undefined || message.referenceTaskIds.length === 0) return params;
    if (key !== undefined) {
      this.byMessage.set(key, message.referenceTaskIds);
      if (this.byMessage.size > MAX_KEPT) this.byMessage.delete(this.byMessage.keys().next().value!);
    }
    return { ...params, message: { ...message, referenceTaskIds: [] } };
  }

  /** `message` with the references held under `key` for it, forgotten once given back. */
  giveBack(message: Message, key: string | undefined): Message {
    const held = key === undefined ? undefined : this.byMessage.get(key);
    if (held === undefined) return message;
    this.byMessage.delete(key!);
    return { ...message, referenceTaskIds: held };
  }

  forget(key: string | undefined): void {
    if (key !== undefined) this.byMessage.delete(key);
  }
}

export const heldReferences = new HeldReferences();
