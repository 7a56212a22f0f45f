import type { RunnableConfig } from "@langchain/core/runnables";
import { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../errors.js";
import type { JsonObject, JsonValue } from "../json.js";
import { toJsonResult } from "./json-result.js";

/** A compiled LangGraph graph, or anything else with a LangChain-style invoke. */
export type GraphTaskHandler = { invoke(input: unknown, config?: RunnableConfig): Promise<unknown> };

export type GraphTaskOptions = {
  /** Where the run's checkpoints go (a RelayCheckpointSaver on a worker); default: the graph's own, if any. */
  checkpointer?: BaseCheckpointSaver;
  /** Aborts the run (a shutdown, a lost lease). */
  signal?: AbortSignal;
  /** LangGraph's superstep cap; default LangGraph's (25). */
  recursionLimit?: number;
};

// LangGraph lends a parent's checkpointer to a subgraph under this configurable key; a lent
// checkpointer wins over the graph's own. It is how a worker runs a handler that was compiled
// without one (the usual case) under its relay saver.
const CONFIG_KEY_CHECKPOINTER = "__pregel_checkpointer";

type GraphLike = GraphTaskHandler & { checkpointer?: unknown };

/** True for a compiled graph (or any runnable) given as a task handler, rather than a function. */
export function isGraphTaskHandler(handler: unknown): handler is GraphTaskHandler {
  return (
    typeof handler === "object" &&
    handler !== null &&
    typeof (handler as GraphTaskHandler).invoke === "function"
  );
}

/**
 * Runs a graph as the handler of one task: thread id = task id, input = the task's payload,
 * result = the final state made JSON (toJsonResult). With a checkpointer, every step is
 * checkpointed before the next starts (durability "sync"), and a thread that already has a
 * checkpoint (the task was reassigned after its worker died) is resumed from it instead of
 * started over: steps that completed do not run again.
 */
export async function runGraphTask(
  graph: GraphTaskHandler,
  task: { taskId: string; payload: JsonObject },
  options: GraphTaskOptions = {},
): Promise<JsonValue> {
  if (!isGraphTaskHandler(graph)) {
    throw new TriadError("ERR_INVALID_HANDLER", "a graph task handler needs an invoke() method");
  }
  const saver = resolveSaver(graph as GraphLike, options.checkpointer);
  const configurable: Record<string, unknown> = { thread_id: task.taskId };
  if (options.checkpointer !== undefined) configurable[CONFIG_KEY_CHECKPOINTER] = options.checkpointer;
  const config: RunnableConfig & { durability?: "sync" } = { configurable };
  if (saver !== undefined) config.durability = "sync";
  if (options.signal !== undefined) config.signal = options.signal;
  if (options.recursionLimit !== undefined) config.recursionLimit = options.recursionLimit;

  // LangGraph resumes a thread from its last checkpoint when invoked with null input; with
  // input it would start the graph over on top of the old state.
  const resume =
    saver !== undefined && (await saver.getTuple({ configurable: { thread_id: task.taskId } })) !== undefined;
  const output = await graph.invoke(resume ? null : task.payload, config);
  return toJsonResult(output, `result of task ${task.taskId}`);
}

function resolveSaver(
  graph: GraphLike,
  lent: BaseCheckpointSaver | undefined,
): BaseCheckpointSaver | undefined {
  if (graph.checkpointer === false) return undefined; // compiled to never checkpoint
  if (lent !== undefined) return lent;
  return graph.checkpointer instanceof BaseCheckpointSaver ? graph.checkpointer : undefined;
}
