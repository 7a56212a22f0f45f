import type { RunnableConfig } from "@langchain/core/runnables";
import { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../../../core/errors.js";
import { isPlainObject, type JsonObject, type JsonValue } from "../../../core/json.js";
import { RESUME_CONFIG_KEY } from "../../../core/state/graph-task.js";
import type { RemoteAgentInfo } from "../../protocol.js";
import { checkHandlerOptions } from "./handler-options.js";
import { RemoteAgent, type RemoteAgentOptions } from "./remote-agent.js";

/** The message sent for a task: a data part (the default: the payload), or a text part. */
export type RemoteInput = { data: JsonObject } | { text: string };

export type A2AAgentHandlerOptions = Omit<RemoteAgentOptions, "url"> & {
  /** The skill the message asks for (its metadata's `skill`); default none, the agent decides. */
  skill?: string | undefined;
  /** Builds the message from the task's payload; default `{ data: payload }`. */
  toMessage?: ((payload: JsonObject) => RemoteInput) | undefined;
  /** Builds the task's result from what the remote task returned (its data, or its text joined). */
  toResult?: ((result: JsonValue) => JsonValue) | undefined;
  /** The agent to call through (default: one shared by every handler of the same URL and options). */
  agent?: RemoteAgent | undefined;
};

// LangGraph lends a checkpointer to what it invokes under this key; the worker lends its relay
// (runGraphTask), and the bridge records the remote task id through it.
const CONFIG_KEY_CHECKPOINTER = "__pregel_checkpointer";

/**
 * A task handler that runs each task on a remote A2A agent. It is a runnable (it has invoke())
 * rather than a function, so the worker runs it as it runs a graph: under the attempt's relay
 * checkpointer, which carries the remote task id to the distributor while the bridge waits on
 * the remote task, and seeds the next attempt with it after a worker dies.
 */
export class A2AAgentHandler {
  readonly agent: RemoteAgent;

  constructor(
    url: string,
    private readonly options: A2AAgentHandlerOptions = {},
  ) {
    if (typeof url !== "string" || !/^https?:\/\//.test(url)) {
      throw new TriadError(
        "ERR_INVALID_ARGUMENT",
        `an A2A agent's URL must be http(s)://… (got ${JSON.stringify(url)})`,
      );
    }
    checkHandlerOptions(url, options);
    this.agent = options.agent ?? sharedAgent(url, options);
  }

  /** What the worker's heartbeat says of the agent (the dashboard shows it); starts reading its card. */
  describeRemoteAgent(): RemoteAgentInfo {
    void this.agent.connect().catch(() => {});
    return (
      this.agent.info ?? {
        name: "",
        url: this.agent.url,
        skills: this.options.skill ? [this.options.skill] : [],
      }
    );
  }

  /** Called by the worker (runGraphTask): input is the task's payload, the thread id its task id. */
  async invoke(input: unknown, config?: RunnableConfig): Promise<JsonValue> {
    const configurable = config?.configurable ?? {};
    const taskId = typeof configurable.thread_id === "string" ? configurable.thread_id : "";
    const lent = configurable[CONFIG_KEY_CHECKPOINTER];
    const payload = isPlainObject(input) ? (input as JsonObject) : {};
    const message = this.options.toMessage ? this.options.toMessage(payload) : { data: payload };
    const result = await this.agent.run({
      taskId,
      ...message,
      skill: this.options.skill,
      saver: lent instanceof BaseCheckpointSaver ? lent : undefined,
      signal: config?.signal,
      answer: answerOf(configurable[RESUME_CONFIG_KEY]),
    });
    return this.options.toResult ? this.options.toResult(result) : result;
  }
}

/** The input given to the task's last question, as runGraphTask lends it (see RESUME_CONFIG_KEY). */
function answerOf(resume: unknown): { key: string; value: JsonValue } | undefined {
  if (!isPlainObject(resume) || typeof resume.key !== "string" || !("value" in resume)) return undefined;
  return { key: resume.key, value: resume.value as JsonValue };
}

/** Handlers of one agent (same URL and options) share its client, card and in-flight cap. */
const agents = new Map<string, RemoteAgent>();

function sharedAgent(url: string, options: A2AAgentHandlerOptions): RemoteAgent {
  const { token, concurrency, streaming, pollIntervalMs, maxCardRetryMs, reconnectWindowMs } = options;
  const key = JSON.stringify([
    url,
    token,
    concurrency,
    streaming,
    pollIntervalMs,
    maxCardRetryMs,
    reconnectWindowMs,
  ]);
  let agent = agents.get(key);
  if (agent === undefined) {
    agent = new RemoteAgent({ ...options, url });
    agents.set(key, agent);
  }
  return agent;
}

/**
 * A handler for `--handlers` modules: each task of its type becomes one A2A message to the agent
 * at `url` (its card is read on first use, and read again until it can be).
 *
 *   export default { summarize: a2aAgentHandler("http://127.0.0.1:9999", { skill: "summarize" }) };
 */
export function a2aAgentHandler(url: string, options: A2AAgentHandlerOptions = {}): A2AAgentHandler {
  return new A2AAgentHandler(url, options);
}
