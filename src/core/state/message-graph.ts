import { Annotation, END, START, StateGraph } from "@langchain/langgraph/web";
import { TriadError } from "../errors.js";
import type { JsonObject, JsonValue } from "../json.js";
import type { A2AMessage } from "../messaging/types.js";
import type { LocalStateUpdate } from "./annotations.js";
import { concatChanges, type HistoryEntry, mergeObjects, type TaskChange } from "./reducers.js";
import type { AgentStatus } from "./status.js";

/**
 * The state an agent's message graph runs over: the message, the reply, and this message's
 * changes to the agent's LocalAgentState, under the same channel names and update types as
 * LocalStateAnnotation. The changes are accumulated here and folded into the agent's state
 * after the run: passing the whole local state through every invoke would copy it (all its
 * tasks, all its history) once per message.
 *
 * Nodes return updates like `{ reply: {...}, local_tasks: task, history: entry }`. LangGraph's
 * Overwrite is not supported on the change channels (it would replace the change, not the state):
 * call the LocalAgentState methods for that.
 */
export const MessageAnnotation = Annotation.Root({
  message: Annotation<A2AMessage>,
  reply: Annotation<Record<string, JsonValue> | undefined>,
  status: Annotation<AgentStatus | undefined>,
  last_heartbeat: Annotation<string | undefined>,
  local_tasks: Annotation<TaskChange[], TaskChange | readonly TaskChange[]>({
    reducer: concatChanges,
    default: () => [],
  }),
  local_vars: Annotation<JsonObject>({ reducer: mergeObjects, default: () => ({}) }),
  history: Annotation<HistoryEntry[], HistoryEntry | readonly HistoryEntry[]>({
    reducer: concatChanges,
    default: () => [],
  }),
  metadata: Annotation<JsonObject>({ reducer: mergeObjects, default: () => ({}) }),
});

export type MessageState = typeof MessageAnnotation.State;
export type MessageUpdate = typeof MessageAnnotation.Update;

/** One kind of work: reads the message (and the agent's state through `this`), returns an update. */
export type MessageNode = (state: MessageState) => MessageUpdate | Promise<MessageUpdate>;

/** The route taken by messages that no node handles. */
export const UNHANDLED_ROUTE = "unhandled";

/** The state a fast-path node sees: what the graph would hand its first node. */
export function initialMessageState(message: A2AMessage): MessageState {
  return {
    message,
    reply: undefined,
    status: undefined,
    last_heartbeat: undefined,
    local_tasks: [],
    local_vars: {},
    history: [],
    metadata: {},
  };
}

/** The LocalAgentState part of a node's update (or of the graph's final state), empty parts left out. */
export function localChanges(update: MessageUpdate): LocalStateUpdate {
  const out: LocalStateUpdate = {};
  if (update.status !== undefined) out.status = update.status as AgentStatus;
  if (update.last_heartbeat !== undefined) out.last_heartbeat = update.last_heartbeat as string;
  if (update.local_tasks !== undefined && !isEmpty(update.local_tasks))
    out.local_tasks = update.local_tasks as TaskChange[];
  if (update.history !== undefined && !isEmpty(update.history))
    out.history = update.history as HistoryEntry[];
  if (update.local_vars !== undefined && !isEmpty(update.local_vars))
    out.local_vars = update.local_vars as JsonObject;
  if (update.metadata !== undefined && !isEmpty(update.metadata))
    out.metadata = update.metadata as JsonObject;
  return out;
}

function isEmpty(value: object): boolean {
  if (Array.isArray(value)) return value.length === 0;
  for (const _ in value) return false;
  return true;
}

/**
 * Compiles the dispatch graph: a conditional edge from START picks the node for the message's
 * route, that node runs, the graph ends. `route` must return a key of `nodes`.
 */
export function compileMessageGraph(
  nodes: Record<string, MessageNode>,
  route: (message: A2AMessage) => string,
) {
  const names = Object.keys(nodes);
  for (const name of names) checkRouteName(name);
  let graph = new StateGraph(MessageAnnotation).addNode(nodes);
  graph = graph.addConditionalEdges(START, (state: MessageState) => route(state.message), names);
  for (const name of names) graph = graph.addEdge(name, END);
  return graph.compile();
}

export type CompiledMessageGraph = ReturnType<typeof compileMessageGraph>;

/** Route names are node names: LangGraph keeps `|` and `:` for checkpoint namespaces. */
export function checkRouteName(name: string): void {
  if (name.length === 0 || /[|:]/.test(name) || name === START || name === END) {
    throw new TriadError(
      "ERR_INVALID_ROUTE",
      `"${name}" cannot name a message route (use letters, digits, "." "_" "-"; not "|" or ":")`,
    );
  }
}
