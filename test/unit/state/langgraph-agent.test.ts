import { AsyncLocalStorage } from "node:async_hooks";
import { describe, expect, it, vi } from "vitest";
import {
  type A2AMessage,
  type AgentReply,
  AgentStatus,
  isTriadError,
  LangGraphAgent,
  type MessageNode,
  type MessageState,
  MessageType,
  Task,
  TaskStatus,
} from "../../../src/index.js";

let seq = 0;
function message(type: MessageType, payload: Record<string, unknown> = {}): A2AMessage {
  seq += 1;
  return {
    type,
    sender: "coordinator-1",
    recipient: "distributor-1",
    payload: payload as A2AMessage["payload"],
    metadata: {
      origin: "coordinator-1",
      version: "v1",
      timestamp: new Date().toISOString(),
      request_id: `00000000-0000-4000-8000-${String(seq).padStart(12, "0")}`,
      parent_request_id: null,
      sequence_number: seq,
    },
    signature: "",
  };
}

/** A small agent: a node per kind of work, heartbeats on the fast path. */
class TestAgent extends LangGraphAgent {
  readonly seen: string[] = [];
  fast = false;

  protected override messageNodes(): Record<string, MessageNode> {
    return {
      "request.assign_task": this.assignTask,
      "request.echo": async ({ message: m }: MessageState) => {
        this.seen.push("echo");
        return { reply: { echoed: m.payload.value ?? null } };
      },
      request: () => {
        this.seen.push("request");
        return { reply: { status: "ok", route: "request" } };
      },
      heartbeat: ({ message: m }: MessageState) => {
        this.seen.push("heartbeat");
        return {
          last_heartbeat: m.metadata.timestamp,
          local_vars: { [`seen:${m.sender}`]: m.metadata.sequence_number },
          reply: { status: "alive" },
        };
      },
      "event.worker_died": ({ message: m }: MessageState) => ({
        status: AgentStatus.RECOVERING,
        history: { event: "worker_died", worker: m.payload.worker_id ?? null },
      }),
    };
  }

  protected override fastRoutes(): Iterable<string> {
    return this.fast ? ["heartbeat"] : [];
  }

  /** A node may use `this` (the agent) and return several channels at once. */
  private assignTask({ message: m }: MessageState) {
    this.seen.push("assign_task");
    const task = Task.fromDict(m.payload.task);
    task.assign(this.agentId, 1);
    return {
      local_tasks: task,
      history: [{ event: "assigned", task_id: task.taskId }],
      reply: { accepted: task.taskId },
    };
  }

  async executeTask(task: Task): Promise<AgentReply> {
    task.markStarted();
    task.markCompleted({ ran: true });
    return task.toDict();
  }
}

describe("LangGraphAgent", () => {
  it("initializes: builds its graph, goes idle, stamps its heartbeat", async () => {
    const agent = new TestAgent({ agentId: "distributor-1" });
    agent.localState.setStatus(AgentStatus.ERROR);
    expect(await agent.initialize()).toBe(true);
    expect(agent.localState.status).toBe(AgentStatus.IDLE);
    await agent.cleanup();
  });

  it("routes by type and payload.action to one node per kind of work, and folds the update into localState", async () => {
    const agent = new TestAgent({ agentId: "distributor-1" });
    await agent.initialize();
    const task = new Task({ taskId: "task-9", taskType: "compute", payload: { values: [1, 2] } });
    const reply = await agent.processMessage(
      message(MessageType.REQUEST, { action: "assign_task", task: task.toDict() }),
    );
    expect(reply).toEqual({ accepted: "task-9" });
    const held = agent.localState.getTask("task-9");
    expect(held?.assignedTo).toBe("distributor-1");
    expect(held?.status).toBe(TaskStatus.PENDING);
    expect(agent.localState.history.at(-1)).toMatchObject({ event: "assigned", task_id: "task-9" });

    expect(await agent.processMessage(message(MessageType.REQUEST, { action: "echo", value: 5 }))).toEqual({
      echoed: 5,
    });
    // an unknown action falls back to the node of its message type
    expect(await agent.processMessage(message(MessageType.REQUEST, { action: "other" }))).toEqual({
      status: "ok",
      route: "request",
    });
    // events route on payload.event_type
    await agent.processMessage(message(MessageType.EVENT, { event_type: "worker_died", worker_id: "w3" }));
    expect(agent.localState.status).toBe(AgentStatus.RECOVERING);
    expect(agent.localState.history.at(-1)).toMatchObject({ event: "worker_died", worker: "w3" });
    expect(agent.seen).toEqual(["assign_task", "echo", "request"]);
  });

  it("answers a message no node handles with an error reply, and keeps serving", async () => {
    const agent = new TestAgent({ agentId: "d" });
    const reply = await agent.processMessage(message(MessageType.ACK, { action: "whatever" }));
    expect(reply).toEqual({ status: "error", error: "d has no handler for ack.whatever messages" });
    expect(await agent.processMessage(message(MessageType.HEARTBEAT))).toEqual({ status: "alive" });
  });

  it("runs fast-path routes without the graph, with the same node and the same folding", async () => {
    const viaGraph = new TestAgent({ agentId: "d" });
    const viaFast = new TestAgent({ agentId: "d" });
    viaFast.fast = true;
    const beats = [1, 2, 3].map(() => message(MessageType.HEARTBEAT));
    for (const agent of [viaGraph, viaFast]) {
      for (const beat of beats) expect(await agent.processMessage(beat)).toEqual({ status: "alive" });
    }
    expect(viaFast.localState.values.local_vars).toEqual({
      "seen:coordinator-1": beats[2]!.metadata.sequence_number,
    });
    expect(viaFast.localState.toDict()).toEqual(viaGraph.localState.toDict());
    expect(viaFast.seen).toEqual(["heartbeat", "heartbeat", "heartbeat"]);
    expect(viaGraph.seen).toEqual(viaFast.seen);
  });

  it("propagates a node's error to the caller, leaving the state untouched", async () => {
    const agent = new TestAgent({ agentId: "d" });
    await expect(
      agent.processMessage(message(MessageType.REQUEST, { action: "assign_task", task: { task_id: "" } })),
    ).rejects.toSatisfy((err: unknown) => isTriadError(err, "ERR_INVALID_TASK"));
    expect(agent.localState.tasks.size).toBe(0);
  });

  it("refuses routes LangGraph cannot name, and fast routes without a node", async () => {
    class BadRoute extends TestAgent {
      protected override messageNodes(): Record<string, MessageNode> {
        return { "request:assign": () => ({}) };
      }
    }
    await expect(new BadRoute({ agentId: "d" }).initialize()).rejects.toSatisfy((e: unknown) =>
      isTriadError(e, "ERR_INVALID_ROUTE"),
    );
    class BadFast extends TestAgent {
      protected override fastRoutes(): Iterable<string> {
        return ["nope"];
      }
    }
    await expect(new BadFast({ agentId: "d" }).initialize()).rejects.toSatisfy((e: unknown) =>
      isTriadError(e, "ERR_INVALID_ROUTE"),
    );
  });

  it("runs its graph without turning on AsyncLocalStorage, whose promise hooks would tax every promise of the process", async () => {
    // Triad imports LangGraph's web entry, which leaves LangChain's AsyncLocalStorage unset;
    // once any AsyncLocalStorage runs, Node 20 hooks every promise created afterwards.
    const run = vi.spyOn(AsyncLocalStorage.prototype, "run");
    const enterWith = vi.spyOn(AsyncLocalStorage.prototype, "enterWith");
    try {
      const agent = new TestAgent({ agentId: "distributor-1" });
      await agent.initialize();
      expect(await agent.processMessage(message(MessageType.REQUEST, { action: "echo", value: 1 }))).toEqual({
        echoed: 1,
      });
      expect(run).not.toHaveBeenCalled();
      expect(enterWith).not.toHaveBeenCalled();
    } finally {
      run.mockRestore();
      enterWith.mockRestore();
    }
  });

  it("keeps executeTask to the subclass", async () => {
    const agent = new TestAgent({ agentId: "w" });
    const dict = await agent.executeTask(new Task({ taskId: "t", taskType: "x" }));
    expect(dict).toMatchObject({ status: "completed", result: { ran: true } });
  });
});
