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
import { RequestMalformedError, UnsupportedOperationError } from "@a2a-js/sdk/errors";
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  type ServerCallContext,
  type TaskStore,
} from "@a2a-js/sdk/server";
import { depthProblem } from "../../agents/payload-depth.js";
import { isStoreUnavailable, type TriadError } from "../../core/errors.js";
import { isPlainObject } from "../../core/json.js";
import { StoreUnavailableError, submitRefusal } from "./store-unavailable.js";

/**
 * The SDK's DefaultRequestHandler with Triad's two differences: the agent card is built on
 * every request (the skills follow the workers that are alive), and a Triad task takes one
 * message, so a message addressed to an existing task is refused rather than handed to it;
 * and a message whose task the store could not record is a JSON-RPC error that says
 * "unavailable, retry" (StoreUnavailableError), not a task that failed.
 */
export class TriadRequestHandler extends DefaultRequestHandler {
  constructor(
    private readonly liveCard: () => AgentCard,
    taskStore: TaskStore,
    executor: AgentExecutor,
    buses: ExecutionEventBusManager,
  ) {
    super(liveCard(), taskStore, executor, buses);
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
    refuseFollowUp(params);
    refuseTooDeep(params);
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
    refuseFollowUp(params);
    refuseTooDeep(params);
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

/**
 * A payload too deep to run is refused as the request's error, at once (JSON-RPC -32602,
 * invalid params), before a task exists: the client sees why, and nothing waits on it.
 */
function refuseTooDeep(params: SendMessageRequest): void {
  for (const part of params.message?.parts ?? []) {
    const data = part.content?.$case === "data" ? (part.content.value as unknown) : undefined;
    const problem = isPlainObject(data) ? depthProblem(data.payload, "payload") : null;
    if (problem !== null) throw new RequestMalformedError(problem);
  }
}

/** A read or cancel the store could not serve: "unavailable, retry", as SendMessage says it. */
function retryWhenUnavailable<T>(answer: Promise<T>): Promise<T> {
  return answer.catch((err: unknown) => {
    throw isStoreUnavailable(err) ? new StoreUnavailableError(err) : err;
  });
}

function refuseFollowUp(params: SendMessageRequest): void {
  const taskId = params.message?.taskId;
  if (taskId) {
    throw new UnsupportedOperationError(
      `a Triad task takes one message; send a new message without taskId (follow task ${taskId} with GetTask or SubscribeToTask)`,
    );
  }
}
