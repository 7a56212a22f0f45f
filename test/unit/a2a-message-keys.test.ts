import type { Message, SendMessageRequest } from "@a2a-js/sdk";
import type { RequestContext, ServerCallContext } from "@a2a-js/sdk/server";
import { describe, expect, it } from "vitest";
import { storeUnavailable } from "../../src/core/errors.js";
import { heldReferences } from "../../src/server/a2a-gateway/held-references.js";
import { messageKeyOf, noteMessageKey } from "../../src/server/a2a-gateway/message-keys.js";
import { submitRefusals } from "../../src/server/a2a-gateway/store-unavailable.js";
import { TriadExecutor, type TriadExecutorOptions } from "../../src/server/a2a-gateway/triad-executor.js";

/**
 * What goes between the A2A request handler and the executor of one SendMessage (the message's
 * held referenceTaskIds, the store refusal the executor noted) is kept in process-wide maps.
 * Keyed by messageId alone, two senders (or two contexts of one) sending the same messageId at
 * once on one coordinator took each other's: keyed as the message's claim is (sender,
 * contextId, messageId). Each side is driven here as the handler and the executor drive it.
 */

const callContext = (userName: string) => ({ user: { userName } }) as unknown as ServerCallContext;
const message = (contextId: string, refs: string[]): Message =>
  ({
    messageId: "m-same",
    contextId,
    taskId: "",
    role: 1,
    parts: [{ content: { $case: "data", value: { answer: 1 } } }],
    referenceTaskIds: refs,
  }) as unknown as Message;
const params = (m: Message) => ({ message: m }) as unknown as SendMessageRequest;

/** The executor's request: the SDK fills in a contextId the client did not send. */
const requestOf = (m: Message, context: ServerCallContext) =>
  ({
    userMessage: { ...m, contextId: m.contextId || "filled-by-the-sdk", referenceTaskIds: [] },
    contextId: m.contextId || "filled-by-the-sdk",
    taskId: "t-waiting",
    task: { id: "t-waiting", contextId: "c", status: { state: 6 }, history: [], artifacts: [] },
    context,
  }) as unknown as RequestContext;

const bus = { publish: () => {}, finished: () => {} } as never;

describe("A2A messages with the same messageId from different senders or contexts", () => {
  it("each request gets back its own held references", () => {
    const sends = [
      { context: callContext("alice"), msg: message("", ["a1", "a2"]) },
      { context: callContext("bob"), msg: message("", ["b1"]) },
      { context: callContext("alice"), msg: message("ctx-2", ["c1"]) },
    ];
    // The handler holds each request's references before the SDK runs the executors.
    const keys = sends.map(({ context, msg }) => noteMessageKey(params(msg), context));
    const held = sends.map(({ msg }, i) => heldReferences.hold(params(msg), keys[i]));
    for (const p of held) expect(p.message?.referenceTaskIds).toEqual([]);
    // The executors, in another order, each give back its message's.
    const given = [2, 0, 1].map((i) => {
      const { msg, context } = sends[i]!;
      const executorMessage = requestOf(msg, context).userMessage;
      return [i, heldReferences.giveBack(executorMessage, messageKeyOf(context))] as const;
    });
    for (const [i, m] of given) expect(m.referenceTaskIds).toEqual(sends[i]!.msg.referenceTaskIds);
  });

  it("a store refusal noted by one request's executor is answered to that request only", async () => {
    const refusal = storeUnavailable("ERR_STORE_UNAVAILABLE", "the store is down");
    const executor = new TriadExecutor({
      coordinator: {
        provideInput: async () => {
          throw refusal;
        },
      },
    } as unknown as TriadExecutorOptions);
    const alice = { context: callContext("alice"), msg: message("", []) };
    const bob = { context: callContext("bob"), msg: message("", []) };
    const aliceKey = noteMessageKey(params(alice.msg), alice.context);
    const bobKey = noteMessageKey(params(bob.msg), bob.context);
    // Alice's message (an input to a waiting task) is refused: the store is down.
    await executor.execute(requestOf(alice.msg, alice.context), bus);
    // Bob's request, the same messageId, ends first: it must not take Alice's refusal.
    expect(submitRefusals.take(bobKey)).toBeUndefined();
    expect(submitRefusals.take(aliceKey)).toBe(refusal);
    expect(submitRefusals.take(aliceKey)).toBeUndefined();
  });
});
