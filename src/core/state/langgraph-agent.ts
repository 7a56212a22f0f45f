import { TriadError } from "../errors.js";
import type { JsonValue } from "../json.js";
import type { A2AMessage } from "../messaging/types.js";
import { LocalAgentState } from "./local-agent-state.js";
import {
  type CompiledMessageGraph,
  checkRouteName,
  compileMessageGraph,
  initialMessageState,
  localChanges,
  type MessageNode,
  type MessageState,
  type MessageUpdate,
  UNHANDLED_ROUTE,
} from "./message-graph.js";
import { AgentStatus } from "./status.js";
import type { Task } from "./task.js";

export type AgentReply = Record<string, JsonValue>;

export type LangGraphAgentOptions = {
  agentId: string;
  /** History entries kept in localState; default 1000. */
  historyLimit?: number;
};

type Dispatch = {
  graph: CompiledMessageGraph;
  nodes: Map<string, MessageNode>;
  fast: ReadonlySet<string>;
};

const OK: AgentReply = { status: "ok" };

/**
 * The base of the three agents (seed: LangGraphAgent). Message processing is a compiled
 * LangGraph StateGraph over the agent's local state: a conditional edge routes each message to
 * one node per kind of work, and the node's update is folded into `localState`.
 *
 * A subclass adds behaviour by adding nodes: override messageNodes() and return route -> node.
 * A route is `<message type>` ("heartbeat") or `<message type>.<kind>` ("request.assign_task"),
 * where the kind is `payload.action` (or `payload.event_type` for events); a message goes to
 * its exact route, else to its type's route, else to unhandledMessage().
 *
 * Fast path: a LangGraph invoke costs about a millisecond (bench/graph-dispatch.ts), which is
 * too much for heartbeats and other high-volume kinds. Routes listed by fastRoutes() run the
 * same node function directly and fold its update with the same reducers, skipping LangGraph's
 * scheduler (and its callbacks and tracing). Use it for single-node work that is hot.
 */
export abstract class LangGraphAgent {
  readonly agentId: string;
  readonly localState: LocalAgentState;
  #dispatch: Dispatch | undefined;

  constructor(options: LangGraphAgentOptions) {
    this.localState = new LocalAgentState({ agentId: options.agentId, historyLimit: options.historyLimit });
    this.agentId = this.localState.agentId;
  }

  /** Builds the message graph and marks the agent idle. Subclasses that override call super first. */
  async initialize(): Promise<boolean> {
    this.dispatch();
    this.localState.setStatus(AgentStatus.IDLE);
    this.localState.updateTimestamp();
    return true;
  }

  /** Runs the message through the graph (or its fast path) and returns the node's reply. */
  async processMessage(message: A2AMessage): Promise<AgentReply> {
    const d = this.dispatch();
    const route = this.resolveRoute(d.nodes, message);
    if (d.fast.has(route)) {
      const update = await d.nodes.get(route)!(initialMessageState(message));
      this.localState.apply(localChanges(update));
      return (update.reply as AgentReply | undefined) ?? OK;
    }
    const final = await d.graph.invoke({ message });
    this.localState.apply(localChanges(final));
    return final.reply ?? OK;
  }

  /** Runs one task and returns its terminal task dict. */
  abstract executeTask(task: Task): Promise<AgentReply>;

  /** Releases what initialize() took. The base holds nothing. */
  async cleanup(): Promise<void> {}

  /** route -> node. Called once, when the graph is built; nodes may use `this`. */
  protected messageNodes(): Record<string, MessageNode> {
    return {};
  }

  /** Routes whose node runs without the graph (see the class comment). */
  protected fastRoutes(): Iterable<string> {
    return [];
  }

  /** The route of a message; override to route on something else than type and payload.action. */
  protected messageRoute(message: A2AMessage): string {
    const payload = message.payload ?? {};
    const kind = typeof payload.action === "string" ? payload.action : payload.event_type;
    return typeof kind === "string" && kind.length > 0 ? `${message.type}.${kind}` : message.type;
  }

  /** The reply to a message no node handles. */
  protected unhandledMessage(message: A2AMessage): MessageUpdate {
    const route = this.messageRoute(message);
    return { reply: { status: "error", error: `${this.agentId} has no handler for ${route} messages` } };
  }

  private resolveRoute(nodes: ReadonlyMap<string, MessageNode>, message: A2AMessage): string {
    const route = this.messageRoute(message);
    if (nodes.has(route)) return route;
    if (nodes.has(message.type)) return message.type;
    return UNHANDLED_ROUTE;
  }

  private dispatch(): Dispatch {
    if (this.#dispatch !== undefined) return this.#dispatch;
    const nodes = new Map<string, MessageNode>();
    for (const [route, node] of Object.entries(this.messageNodes())) {
      checkRouteName(route);
      nodes.set(route, node.bind(this));
    }
    if (!nodes.has(UNHANDLED_ROUTE)) {
      nodes.set(UNHANDLED_ROUTE, (state: MessageState) => this.unhandledMessage(state.message));
    }
    const fast = new Set(this.fastRoutes());
    for (const route of fast) {
      if (!nodes.has(route)) {
        throw new TriadError("ERR_INVALID_ROUTE", `fast route "${route}" has no node in messageNodes()`);
      }
    }
    const graph = compileMessageGraph(Object.fromEntries(nodes), (m) => this.resolveRoute(nodes, m));
    this.#dispatch = { graph, nodes, fast };
    return this.#dispatch;
  }
}
