import { randomUUID } from "node:crypto";
import { type Message, type Part, TaskState } from "@a2a-js/sdk";
import {
  AgentEvent,
  type AgentExecutor,
  type ExecutionEventBus,
  type RequestContext,
} from "@a2a-js/sdk/server";
import { agentCard, data, publishCanceled, serveAgent, text } from "./a2a-test-agent.js";
import { freePort } from "./free-port.js";

/**
 * A remote A2A agent for the bridge's edge cases, built from the official SDK's server classes
 * (as a2a-test-agent.ts). Unlike that one's, its skills publish no WORKING status of their own:
 * a task that is answered moves straight from INPUT_REQUIRED to its artifact and its end, as
 * valid A2A agents may. Skills (the message's metadata `skill`):
 *   ask    — INPUT_REQUIRED with the data part { question: "what?" }; the message answering it
 *            publishes the artifact { answer: <its data, or its text> }, then COMPLETED
 *   slowask — as ask, but the answer is worked on for payload.ms (default 800) first
 *   twice  — asks "first?"; the answer publishes an artifact, then asks "second?" (a new status
 *            message); that answer completes it with { answers: [first, second] }
 *   again  — as twice, but both questions are the same status message id and words: only the
 *            timestamp tells them apart
 *   texts  — two text artifacts, "hello" and "world", then COMPLETED
 *   chunks — one text artifact streamed in two chunks ("part1 ", then "part2" with append)
 *   die    — WORKING, then the agent stops at once (its server closed, connections cut)
 */
export type EdgeAgent = {
  url: string;
  /** Messages received, by Triad task id (the message's metadata triad_task_id). */
  received: Map<string, number>;
  /** The ids of the messages received, in order. */
  messageIds: string[];
  close(): Promise<void>;
};

const SKILLS = ["ask", "slowask", "twice", "again", "texts", "chunks", "die"];

/** What a message says: its data part, else its text parts. */
function said(message: Message): unknown {
  const d = message.parts.find((p) => p.content?.$case === "data")?.content;
  if (d?.$case === "data") return d.value;
  return message.parts.map((p) => (p.content?.$case === "text" ? p.content.value : "")).join("");
}

class EdgeExecutor implements AgentExecutor {
  private readonly answers = new Map<string, unknown[]>();

  constructor(
    private readonly agent: Pick<EdgeAgent, "received" | "messageIds">,
    private readonly die: () => void,
  ) {}

  async execute(ctx: RequestContext, bus: ExecutionEventBus): Promise<void> {
    const { taskId, contextId } = ctx;
    const message = ctx.userMessage;
    this.agent.messageIds.push(message.messageId);
    const meta = (message.metadata ?? {}) as { skill?: string; triad_task_id?: string };
    if (meta.triad_task_id)
      this.agent.received.set(meta.triad_task_id, (this.agent.received.get(meta.triad_task_id) ?? 0) + 1);
    const first = ctx.task?.history?.[0] ?? message;
    const skill = (first.metadata as { skill?: string } | undefined)?.skill;
    const payload = (said(first) ?? {}) as { ms?: number };
    const status = (state: TaskState, parts?: Part[], messageId: string = randomUUID()) =>
      bus.publish(
        AgentEvent.statusUpdate({
          taskId,
          contextId,
          status: {
            state,
            message:
              parts === undefined
                ? undefined
                : {
                    messageId,
                    contextId,
                    taskId,
                    role: 2,
                    parts,
                    metadata: undefined,
                    extensions: [],
                    referenceTaskIds: [],
                  },
            timestamp: new Date().toISOString(),
          },
          metadata: undefined,
        }),
      );
    const artifact = (id: string, parts: Part[], append = false) =>
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: { artifactId: id, name: id, description: "", parts, metadata: undefined, extensions: [] },
          append,
          lastChunk: true,
          metadata: undefined,
        }),
      );

    if (ctx.task === undefined) {
      bus.publish(
        AgentEvent.task({
          id: taskId,
          contextId,
          status: {
            state: TaskState.TASK_STATE_SUBMITTED,
            message: undefined,
            timestamp: new Date().toISOString(),
          },
          artifacts: [],
          history: [message],
          metadata: undefined,
        }),
      );
    }
    const answered = ctx.task !== undefined;
    switch (skill) {
      case "ask":
      case "slowask":
        if (!answered) {
          status(TaskState.TASK_STATE_INPUT_REQUIRED, [data({ question: "what?" })]);
          break;
        }
        if (skill === "slowask") await new Promise((r) => setTimeout(r, payload.ms ?? 800));
        artifact("r", [data({ answer: said(message) })]);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      case "twice":
      case "again": {
        const got = this.answers.get(taskId) ?? [];
        const question = (words: string) =>
          status(
            TaskState.TASK_STATE_INPUT_REQUIRED,
            [text(skill === "again" ? "which?" : words)],
            skill === "again" ? `${taskId}:question` : randomUUID(),
          );
        if (!answered) {
          question("first?");
          break;
        }
        got.push(said(message));
        this.answers.set(taskId, got);
        if (got.length === 1) {
          await new Promise((r) => setTimeout(r, 5)); // a later timestamp than the first question's
          artifact("progress", [data({ answers: got })]);
          question("second?");
          break;
        }
        artifact("progress", [data({ answers: got })]);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      }
      case "texts":
        artifact("a", [text("hello")]);
        artifact("b", [text("world")]);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      case "chunks":
        artifact("a", [text("part1 ")]);
        artifact("a", [text("part2")], true);
        status(TaskState.TASK_STATE_COMPLETED);
        break;
      case "die":
        status(TaskState.TASK_STATE_WORKING);
        await new Promise((r) => setTimeout(r, 100));
        this.die();
        return;
      default:
        status(TaskState.TASK_STATE_REJECTED, [text(`no skill ${JSON.stringify(skill)}`)]);
    }
    bus.finished();
  }

  async cancelTask(taskId: string, bus: ExecutionEventBus): Promise<void> {
    publishCanceled(taskId, bus);
  }
}

/** Starts the agent on a free port. With `token`, JSON-RPC wants that bearer token (401 otherwise). */
export async function startEdgeAgent(
  options: { streaming?: boolean; token?: string } = {},
): Promise<EdgeAgent> {
  const agent = { received: new Map<string, number>(), messageIds: [] as string[] };
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  let served: { close(): Promise<void> } | undefined;
  const close = () => served?.close() ?? Promise.resolve();
  served = await serveAgent({
    port,
    card: agentCard({
      name: "Edge agent",
      description: "An A2A agent for the bridge's edge cases",
      url,
      streaming: options.streaming ?? true,
      skills: SKILLS,
    }),
    executor: new EdgeExecutor(agent, () => void close()),
    token: options.token,
  });
  return { url, ...agent, close };
}
