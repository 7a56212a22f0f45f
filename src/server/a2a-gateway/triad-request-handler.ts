import type {
  AgentCard,
  CancelTaskRequest,
  GetTaskRequest,
  ListTasksRequest,
  ListTasksResponse,
  Message,
  SendMessageRequest,
  StreamResponse,
  Task,
} from "@a2a-js/sdk";
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  type ServerCallContext,
  type TaskStore,
} from "@a2a-js/sdk/server";
import { isStoreUnavailable, type TriadError } from "../../core/errors.js";
import { refuseUnrunnable } from "./message-checks.js";
import { StoreUnavailableError, submitRefusal } from "./store-unavailable.js";

/**
 * The SDK's DefaultRequestHandler with Triad's differences: the agent card is built on
 * every request (the skills follow the workers that are alive); a message Triad cannot run
 * at all (one naming a task — a Triad task takes one message —, a file, a payload too deep)
 * is the request's error (refuseUnrunnable); and a message whose task the store could not
 * record is a JSON-RPC error that says "unavailable, retry" (StoreUnavailableError), not a
 * task that failed.
 */
export class TriadRequestHandler extends DefaultRequestHandler {
  constructor(
    private readonly liveCard: () => AgentCard,
    private readonly tasks: TaskStore,
    executor: AgentExecutor,
    buses: ExecutionEventBusManager,
  ) {
    super(liveCard(), tasks, executor, buses);
  }

  override async getAgentCard(): Promise<AgentCard> {
    return this.liveCard();
  }

  override getTask(params: GetTaskRequest, context: ServerCallContext): Promise<Task> {
    return retryWhenUnavailable(super.getTask(params, context));
  }

  override listTasks(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    return retryWhenUnavailable(super.listTasks(params, context));
  }

  override cancelTask(params: CancelTaskRequest, context: ServerCallContext): Promise<Task> {
    return retryWhenUnavailable(super.cancelTask(params, context));
  }

  override async sendMessage(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): Promise<Message | Task> {
    await retryWhenUnavailable(refuseUnrunnable(params, this.tasks, context));
    const refusal: { err?: TriadError } = {};
    const answer = await submitRefusal.run(refusal, () =>
      retryWhenUnavailable(super.sendMessage(params, context)),
    );
    if (refusal.err !== undefined) throw new StoreUnavailableError(refusal.err);
    return answer;
  }

  override async *sendMessageStream(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    await retryWhenUnavailable(refuseUnrunnable(params, this.tasks, context));
    const refusal: { err?: TriadError } = {};
    const events = super.sendMessageStream(params, context);
    // Each step in the refusal's context: the executor starts within one of them.
    for (;;) {
      const step = await submitRefusal.run(refusal, () => retryWhenUnavailable(events.next()));
      if (refusal.err !== undefined) throw new StoreUnavailableError(refusal.err);
      if (step.done) return;
      yield step.value;
    }
  }
}

/** A read or cancel the store could not serve: "unavailable, retry", as SendMessage says it. */
function retryWhenUnavailable<T>(answer: Promise<T>): Promise<T> {
  return answer.catch((err: unknown) => {
    throw isStoreUnavailable(err) ? new StoreUnavailableError(err) : err;
  });
}
