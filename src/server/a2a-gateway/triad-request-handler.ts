import type { AgentCard, Message, SendMessageRequest, StreamResponse, Task } from "@a2a-js/sdk";
import { UnsupportedOperationError } from "@a2a-js/sdk/errors";
import {
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBusManager,
  type ServerCallContext,
  type TaskStore,
} from "@a2a-js/sdk/server";

/**
 * The SDK's DefaultRequestHandler with Triad's two differences: the agent card is built on
 * every request (the skills follow the workers that are alive), and a Triad task takes one
 * message, so a message addressed to an existing task is refused rather than handed to it.
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
    return super.sendMessage(params, context);
  }

  override async *sendMessageStream(
    params: SendMessageRequest,
    context: ServerCallContext,
  ): AsyncGenerator<StreamResponse, void, undefined> {
    refuseFollowUp(params);
    yield* super.sendMessageStream(params, context);
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
