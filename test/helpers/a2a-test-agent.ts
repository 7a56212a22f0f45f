import type { Server } from "node:http";
import { type AgentCard, type Part, TaskState, type TaskStatus } from "@a2a-js/sdk";
import {
  AgentEvent,
  type AgentExecutor,
  DefaultRequestHandler,
  type ExecutionEventBus,
  InMemoryTaskStore,
  type RequestContext,
} from "@a2a-js/sdk/server";
import { agentCardHandler, jsonRpcHandler, UserBuilder } from "@a2a-js/sdk/server/express";
import express from "express";
import { freePort } from "./free-port.js";

/**
 * A remote A2A agent for tests, built from the official SDK's server classes (DefaultRequestHandler,
 * InMemoryTaskStore, the express handlers). Its skills, chosen by the message's metadata `skill`:
 *   echo  — completes; the artifact's data part is the message's data
 *   words — completes with two text parts ("hello ", "world") and no data
 *   fail  — ends FAILED, saying "the payload was refused: <payload.why>"
 *   ask   — ends INPUT_REQUIRED, asking "Which city?"; the message that answers it (naming the
 *           task) completes it with { city: <the answer's text or data> } (an answer with data
 *           { ms } works that long first)
 *   slow  — works payload.ms (default 60 s), then completes { slept_ms }; honours CancelTask
 * It counts the messages it received per Triad task (metadata triad_task_id), and the remote
 * tasks they started; holdAnswers() keeps every answer back (the message arrived, its task
 * started, nothing sent back yet) until it is let go.
 */
export type TestAgent = {
  url: string;
  /** Messages received, by Triad task id. */
  received: Map<string, number>;
  /** Remote task ids canceled through CancelTask. */
  canceled: Set<string>;
  /** Remote task ids started, by Triad task id. */
  started: Map<string, string[]>;
  /** From now on no message is answered until the function returned is called. */
  holdAnswers(): () => void;
  /** Authorization headers seen on JSON-RPC requests. */
  authorizations: string[];
  /**
   * By Triad task id: for each message received, how many JSON-RPC requests had come by then
   * (the message's own included): a request counted past it came after that message.
   */
  requestsAtMessage: Map<string, number[]>;
  close(): Promise<void>;
  /**
   * Serves again on the same port, remembering its tasks (and the ones still running): a restart.
   * With `forgetTasks`, a restart without its task store: every earlier task id is unknown.
   */
  reopen(options?: { forgetTasks?: boolean }): Promise<void>;
};

const SKILLS = ["echo", "words", "fail", "ask", "slow"];

/** The card of a test agent: JSON-RPC at `<url>/a2a/jsonrpc`, one skill per id. */
export function agentCard(o: {
  name: string;
  description: string;
  url: string;
  streaming: boolean;
  skills: string[];
}): AgentCard {
  return {
    name: o.name,
    description: o.description,
    supportedInterfaces: [
      { url: `${o.url}/a2a/jsonrpc`, protocolBinding: "JSONRPC", protocolVersion: "1.0", tenant: "" },
    ],
    provider: undefined,
    version: "1.0.0",
    capabilities: {
      streaming: o.streaming,
      pushNotifications: false,
      extensions: [],
      extendedAgentCard: false,
    },
    securitySchemes: {},
    securityRequirements: [],
    defaultInputModes: ["application/json"],
    defaultOutputModes: ["application/json"],
    skills: o.skills.map((id) => ({
      id,
      name: id,
      description: `the ${id} skill`,
      tags: [],
      examples: [],
      inputModes: [],
      outputModes: [],
      securityRequirements: [],
    })),
    signatures: [],
  };
}

export const text = (value: string): Part => ({
  content: { $case: "text", value },
  metadata: undefined,
  filename: "",
  mediaType: "text/plain",
});

export const data = (value: unknown): Part => ({
  content: { $case: "data", value },
  metadata: undefined,
  filename: "",
  mediaType: "application/json",
});

class TestExecutor implements AgentExecutor {
  private readonly stopped = new Set<string>();

  /** Set while answers are held back: settles when they may go. */
  held: Promise<void> | undefined;

  constructor(
    private readonly agent: Pick<
      TestAgent,
      "received" | "canceled" | "started" | "authorizations" | "requestsAtMessage"
    >,
  ) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = ctx;
    const message = ctx.userMessage;
    const meta = (message.metadata ?? {}) as { skill?: string; triad_task_id?: string };
    if (meta.triad_task_id) {
      this.agent.received.set(meta.triad_task_id, (this.agent.received.get(meta.triad_task_id) ?? 0) + 1);
      this.agent.requestsAtMessage.set(meta.triad_task_id, [
        ...(this.agent.requestsAtMessage.get(meta.triad_task_id) ?? []),
        this.agent.authorizations.length,
      ]);
      if (ctx.task === undefined)
        this.agent.started.set(meta.triad_task_id, [
          ...(this.agent.started.get(meta.triad_task_id) ?? []),
          taskId,
        ]);
    }
    await this.held;
    const input = message.parts.find((p) => p.content?.$case === "data")?.content?.value ?? {};
    const status = (state: TaskState, said?: string): TaskStatus => ({
      state,
      message:
        said === undefined
          ? undefined
          : {
              messageId: `${taskId}:${state}`,
              contextId,
              taskId,
              role: 2,
              parts: [text(said)],
              metadata: undefined,
              extensions: [],
              referenceTaskIds: [],
            },
      timestamp: new Date().toISOString(),
    });
    const update = (state: TaskState, said?: string) =>
      bus.publish(
        AgentEvent.statusUpdate({ taskId, contextId, status: status(state, said), metadata: undefined }),
      );
    const artifact = (parts: Part[]) =>
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: {
            artifactId: "out",
            name: "out",
            description: "",
            parts,
            metadata: undefined,
            extensions: [],
          },
          append: false,
          lastChunk: true,
          metadata: undefined,
        }),
      );

    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: status(TaskState.TASK_STATE_SUBMITTED),
        artifacts: [],
        history: [message],
        metadata: undefined,
      }),
    );
    update(TaskState.TASK_STATE_WORKING);
    switch (meta.skill) {
      case "echo":
        artifact([data(input)]);
        update(TaskState.TASK_STATE_COMPLETED);
        break;
      case "words":
        artifact([text("hello "), text("world")]);
        update(TaskState.TASK_STATE_COMPLETED);
        break;
      case "fail":
        update(
          TaskState.TASK_STATE_FAILED,
          `the payload was refused: ${(input as { why?: string }).why ?? "no reason"}`,
        );
        break;
      case "ask": {
        if (ctx.task === undefined) {
          update(TaskState.TASK_STATE_INPUT_REQUIRED, "Which city?");
          break;
        }
        const said = message.parts.find((p) => p.content?.$case === "text")?.content?.value;
        // An answer { city, ms } works ms before it completes (a task lost while it works).
        const { ms } = input as { ms?: unknown };
        const until = Date.now() + (typeof ms === "number" ? ms : 0);
        while (Date.now() < until && !this.stopped.has(taskId)) await new Promise((r) => setTimeout(r, 20));
        if (this.stopped.has(taskId)) return;
        artifact([data({ city: (said ?? input) as string })]);
        update(TaskState.TASK_STATE_COMPLETED);
        break;
      }
      case "slow": {
        const ms = (input as { ms?: number }).ms ?? 60_000;
        const until = Date.now() + ms;
        while (Date.now() < until && !this.stopped.has(taskId)) await new Promise((r) => setTimeout(r, 20));
        if (this.stopped.has(taskId)) return; // cancelTask published CANCELED
        artifact([data({ slept_ms: ms })]);
        update(TaskState.TASK_STATE_COMPLETED);
        break;
      }
      default:
        update(TaskState.TASK_STATE_REJECTED, `no skill ${JSON.stringify(meta.skill)}`);
    }
    bus.finished();
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    this.stopped.add(taskId);
    this.agent.canceled.add(taskId);
    publishCanceled(taskId, bus);
  }
}

/** An executor's answer to CancelTask: the task CANCELED, the bus finished. */
export function publishCanceled(taskId: string, bus: ExecutionEventBus): void {
  bus.publish(
    AgentEvent.statusUpdate({
      taskId,
      contextId: "",
      status: {
        state: TaskState.TASK_STATE_CANCELED,
        message: undefined,
        timestamp: new Date().toISOString(),
      },
      metadata: undefined,
    }),
  );
  bus.finished();
}

/**
 * Serves `executor` as an A2A agent through the SDK's express handlers on 127.0.0.1:`port`.
 * With `token`, JSON-RPC wants `Bearer <token>` (401 otherwise); `seen` gets every JSON-RPC
 * request's Authorization header. `close` may be called more than once, or before it listens.
 */
export async function serveAgent(o: {
  port: number;
  card: AgentCard;
  executor: AgentExecutor;
  token?: string | undefined;
  seen?: (authorization: string) => void;
  /** The agent's tasks; default a new store (a restart that keeps it remembers them). */
  taskStore?: InMemoryTaskStore | undefined;
}): Promise<{ close(): Promise<void> }> {
  const app = express();
  const handler = new DefaultRequestHandler(o.card, o.taskStore ?? new InMemoryTaskStore(), o.executor);
  app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: async () => o.card }));
  app.use("/a2a/jsonrpc", (req, res, next) => {
    o.seen?.(req.headers.authorization ?? "");
    if (o.token && req.headers.authorization !== `Bearer ${o.token}`) {
      res.status(401).json({ error: "unauthorized" });
      return;
    }
    next();
  });
  app.use(
    "/a2a/jsonrpc",
    jsonRpcHandler({ requestHandler: handler, userBuilder: UserBuilder.noAuthentication }),
  );
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(o.port, "127.0.0.1", () => resolve(s));
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Starts the agent on `port` (default a free one). With `token`, JSON-RPC wants that bearer token. */
export async function startTestAgent(
  options: { port?: number; streaming?: boolean; token?: string } = {},
): Promise<TestAgent> {
  const agent = {
    received: new Map<string, number>(),
    canceled: new Set<string>(),
    started: new Map<string, string[]>(),
    authorizations: [] as string[],
    requestsAtMessage: new Map<string, number[]>(),
  };
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const card = agentCard({
    name: "Test agent",
    description: "An A2A agent for Triad's bridge tests",
    url,
    streaming: options.streaming ?? true,
    skills: SKILLS,
  });
  const executor = new TestExecutor(agent);
  let taskStore = new InMemoryTaskStore();
  const serve = () =>
    serveAgent({
      port,
      card,
      executor,
      taskStore,
      token: options.token,
      seen: (authorization) => agent.authorizations.push(authorization),
    });
  let served = await serve();
  return {
    url,
    ...agent,
    close: () => served.close(),
    holdAnswers: () => {
      let release = () => {};
      executor.held = new Promise<void>((resolve) => {
        release = () => {
          executor.held = undefined;
          resolve();
        };
      });
      return release;
    },
    reopen: async (o = {}) => {
      if (o.forgetTasks) taskStore = new InMemoryTaskStore();
      served = await serve();
    },
  };
}
