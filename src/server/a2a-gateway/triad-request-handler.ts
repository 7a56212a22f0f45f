import type {
  AgentCard,
  CancelTaskRequest,
  GetTaskRequest,
  ListTasksRequest,
  ListTasksResponse,
  Message,
  SendMessageRequest,
  StreamResponse,
  SubscribeToTaskRequest,
  Task,
} from "@a2a-js/sdk";
import { UnsupportedOperationError } from "@a2a-js/sdk/errors";
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  type ServerCallContext,
  type TaskStore,
} from "@a2a-js/sdk/server";
import { isStoreUnavailable } from "../../core/errors.js";
import { heldReferences } from "./held-references.js";
import { refuseUnrunnable } from "./message-checks.js";
import type { MessageClaims } from "./message-claims.js";
import { noteMessageKey } from "./message-keys.js";
import { requestTenants } from "./request-tenants.js";
import { refusalError, StoreUnavailableError, submitRefusals } from "./store-unavailable.js";
import { stateLabel, TERMINAL_STATES } from "./task-view.js";

/**
 * The SDK's DefaultRequestHandler with Triad's differences: the agent card is built on
 * every request (the skills follow the workers that are alive); a message Triad cannot run
 * at all (one naming a task — a Triad task takes one message —, a file, a payload too deep)
 * is the request's error (refuseUnrunnable); and a message whose task the store could not
 * record is a JSON-RPC error that says "unavailable, retry" (StoreUnavailableError), not a
 * task that failed; a message sent again (its messageId) answers the task its first send
 * started (MessageClaims). A message's referenceTaskIds are not looked up (HeldReferences).
 * Each request's A2A tenant is noted for the task store (RequestTenants): one tenant's tasks
 * are not found by another's requests.
 */
export class TriadRequestHandler extends DefaultRequestHandler {
  constructor(
    private readonly liveCard: () => AgentCard,
    private readonly tasks: TaskStore,
    executor: AgentExecutor,
    buses: ExecutionEventBusManager,
    private readonly claims: MessageClaims,
  ) {
    super(liveCard(), tasks, executor, buses);
  }

  override async getAgentCard(): Promise<AgentCard> {
    return this.liveCard();
  }

  override getTask(params: GetTaskRequest, context: ServerCallContext): Promise<Task> {
    requestTenants.note(context, params.tenant);
    return retryWhenUnavailable(super.getTask(params, context));
  }

  override listTasks(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    requestTenants.note(context, params.tenant);
    return retryWhenUnavailable(super.listTasks(params, context));
  }

  override cancelTask(params: CancelTaskRequest, context: ServerCallContext): Promise<Task> {
    requestTenants.note(context, params.tenant);
    return retryWhenUnavailable(super.cancelTask(params, context));
  }

  /** A finished task is refused naming its state ("completed"), where the SDK said its enum number. */
  override async *resubscribe(
    params: SubscribeToTaskRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    requestTenants.note(context, params.tenant);
    const task = await retryWhenUnavailable(this.tasks.load(params.id, context));
    const state = task?.status?.state;
    if (state !== undefined && TERMINAL_STATES.has(state)) {
      throw new UnsupportedOperationError(
        `task ${params.id} has ended (${stateLabel(state)}) and cannot be subscribed to; read it with GetTask`,
      );
    }
    yield* super.resubscribe(params, context);
  }

  override async sendMessage(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): Promise<Message | Task> {
    requestTenants.note(context, params.tenant);
    await retryWhenUnavailable(refuseUnrunnable(params, this.tasks, context));
    this.claims.note(params, context);
    const key = noteMessageKey(params, context);
    try {
      // A refusal the executor noted is the answer, whether or not the SDK made one of its own
      // (an executor that refused publishes nothing: "finished without a result").
      const answer = await retryWhenUnavailable(
        super.sendMessage(heldReferences.hold(params, key), context),
      ).catch((err: unknown) => {
        const refused = submitRefusals.take(key);
        throw refused === undefined ? err : refusalError(refused);
      });
      const refused = submitRefusals.take(key);
      if (refused !== undefined) throw refusalError(refused);
      return answer;
    } finally {
      submitRefusals.take(key);
      heldReferences.forget(key);
    }
  }

  override async *sendMessageStream(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    requestTenants.note(context, params.tenant);
    await retryWhenUnavailable(refuseUnrunnable(params, this.tasks, context));
    this.claims.note(params, context);
    const key = noteMessageKey(params, context);
    try {
      for await (const event of wrapStream(
        super.sendMessageStream(heldReferences.hold(params, key), context),
      )) {
        const refused = submitRefusals.take(key);
        if (refused !== undefined) throw refusalError(refused);
        yield event;
      }
      const refused = submitRefusals.take(key);
      if (refused !== undefined) throw refusalError(refused);
    } catch (err) {
      const refused = submitRefusals.take(key);
      throw refused === undefined ? err : refusalError(refused);
    } finally {
      submitRefusals.take(key);
      heldReferences.forget(key);
    }
  }
}

/** The stream's events, a store error while producing them turned into "unavailable, retry". */
async function* wrapStream<T>(
  events: AsyncGenerator<T, void, undefined>,
): AsyncGenerator<T, void, undefined> {
  for (;;) {
    const step = await retryWhenUnavailable(events.next());
    if (step.done) return;
    yield step.value;
  }
}

/** A read or cancel the store could not serve: "unavailable, retry", as SendMessage says it. */
function retryWhenUnavailable<T>(answer: Promise<T>): Promise<T> {
  return answer.catch((err: unknown) => {
    throw isStoreUnavailable(err) ? new StoreUnavailableError(err) : err;
  });
}
