import type { AgentCard, Message, SendMessageRequest, StreamResponse, Task } from "@a2a-js/sdk";
import { UnsupportedOperationError } from "@a2a-js/sdk/errors";
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  type ServerCallContext,
  type TaskStore,
} from "@a2a-js/sdk/server";
import type { TriadError } from "../../core/errors.js";
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

function refuseFollowUp(params: SendMessageRequest): void {
  const taskId = params.message?.taskId;
  if (taskId) {
    throw new UnsupportedOperationError(
      `a Triad task takes one message; send a new message without taskId (follow task ${taskId} with GetTask or SubscribeToTask)`,
    );
  }
}
