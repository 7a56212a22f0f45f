import type { AgentCard, Message, SendMessageRequest, StreamResponse, Task } from "@a2a-js/sdk";
import { RequestMalformedError, UnsupportedOperationError } from "@a2a-js/sdk/errors";
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  type ServerCallContext,
  type TaskStore,
} from "@a2a-js/sdk/server";
import { depthProblem } from "../../agents/payload-depth.js";
import type { TriadError } from "../../core/errors.js";
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

  override async sendMessage(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): Promise<Message | Task> {
    refuseFollowUp(params);
    refuseTooDeep(params);
    const refusal: { err?: TriadError } = {};
    const answer = await submitRefusal.run(refusal, () => super.sendMessage(params, context));
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
      const step = await submitRefusal.run(refusal, () => events.next());
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

function refuseFollowUp(params: SendMessageRequest): void {
  const taskId = params.message?.taskId;
  if (taskId) {
    throw new UnsupportedOperationError(
      `a Triad task takes one message; send a new message without taskId (follow task ${taskId} with GetTask or SubscribeToTask)`,
    );
  }
}
