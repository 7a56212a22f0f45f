import {
  DefaultExecutionEventBusManager,
  type ExecutionEventBus,
  type ExecutionEventBusManager,
  type ServerCallContext,
} from "@a2a-js/sdk/server";

/** Follows a task on a bus until it is terminal (or the gateway closes). */
export type FollowTask = (
  taskId: string,
  bus: ExecutionEventBus,
  context: ServerCallContext,
) => Promise<void>;

/**
 * The SDK's in-process buses, plus one thing: asked for the bus of a task that no SendMessage
 * in this process is running (one submitted over REST, or before this coordinator restarted),
 * it starts a follower of Triad's record on a new bus, so SubscribeToTask streams and
 * CancelTask completes for any task Triad has, not only for those sent here.
 */
export class FollowingBusManager implements ExecutionEventBusManager {
  private readonly buses = new DefaultExecutionEventBusManager();

  constructor(
    private readonly followTask: FollowTask,
    private readonly accepting: () => boolean,
  ) {}

  createOrGetByTaskId(taskId: string, context?: ServerCallContext): ExecutionEventBus {
    return this.buses.createOrGetByTaskId(taskId, context);
  }

  getByTaskId(taskId: string, context?: ServerCallContext): ExecutionEventBus | undefined {
    const live = this.buses.getByTaskId(taskId, context);
    if (live !== undefined || context === undefined || !this.accepting()) return live;
    const bus = this.buses.createOrGetByTaskId(taskId, context);
    void this.followTask(taskId, bus, context)
      .catch(() => {})
      .finally(() => {
        bus.finished();
        this.buses.cleanupByTaskId(taskId, context);
      });
    return bus;
  }

  cleanupByTaskId(taskId: string, context?: ServerCallContext): void {
    this.buses.cleanupByTaskId(taskId, context);
  }

  /**
   * When a SendMessage's executor returns, its bus is closed, whatever the state: the executor
   * returns once the task's turn is over (terminal, or waiting for input), and nothing publishes
   * on that bus again. The SDK would keep it for a task waiting for input (INPUT_REQUIRED), so
   * a CancelTask of that task waited forever on a bus nobody fed (and each unanswered task
   * kept one); closed, the next call follows the task afresh from its record (getByTaskId),
   * and the message that answers it opens a bus of its own.
   */
  settleByTaskId(
    taskId: string,
    bus: ExecutionEventBus,
    _state: unknown,
    context: ServerCallContext,
  ): boolean {
    bus.finished();
    this.buses.cleanupByTaskId(taskId, context);
    return true;
  }
}
