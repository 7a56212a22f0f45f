import type { RunnableConfig } from "@langchain/core/runnables";
import { BaseCheckpointSaver, type CheckpointTuple, Command } from "@langchain/langgraph/web";
import { TriadError } from "../errors.js";
import type { JsonObject, JsonValue } from "../json.js";
import { nodeThrowOf } from "./graph-node-throw.js";
import { InputRequired } from "./input-required.js";
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
  /** The attempt's number (1 on the first): a node reads it as `config.configurable.attempt`. */
  attempt?: number;
  /** The input given to the task's last request: the interrupt it answers (key) resumes with value. */
  resume?: { key: string; value: JsonValue };
  /** The attempt's ctx.progress: a node calls `config.configurable.progress(value)`. */
  progress?: (value: JsonValue) => void;
};

// LangGraph lends a parent's checkpointer to a subgraph under this configurable key; a lent
// checkpointer wins over the graph's own. It is how a worker runs a handler that was compiled
// without one (the usual case) under its relay saver.
const CONFIG_KEY_CHECKPOINTER = "__pregel_checkpointer";
/**
 * Where a handler that is not a LangGraph graph (a2aAgentHandler) finds the input given to the
 * task's last request and that request's key: `config.configurable[RESUME_CONFIG_KEY]`.
 */
export const RESUME_CONFIG_KEY = "triad_resume";

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
  if (options.progress !== undefined) configurable.progress = options.progress;
  if (options.attempt !== undefined) configurable.attempt = options.attempt;
  if (options.resume !== undefined) configurable[RESUME_CONFIG_KEY] = options.resume;
  const config: RunnableConfig & { durability?: "sync" } = { configurable };
  if (saver !== undefined) config.durability = "sync";
  if (options.signal !== undefined) config.signal = options.signal;
  if (options.recursionLimit !== undefined) config.recursionLimit = options.recursionLimit;

  // LangGraph resumes a thread from its last checkpoint when invoked with null input; with
  // input it would start the graph over on top of the old state.
  const tuple =
    saver === undefined ? undefined : await saver.getTuple({ configurable: { thread_id: task.taskId } });
  let input: unknown = tuple === undefined ? task.payload : null;
  // Parked at an interrupt: resumed with the input given for it (Command), or, when no input
  // answers it (the worker died before its request was recorded), asked again without running.
  const parked = tuple === undefined ? [] : pendingInterrupts(tuple);
  if (parked.length > 0) {
    const answered = parked.find((p) => p.id === options.resume?.key);
    if (answered === undefined || options.resume === undefined) throw requestOf(parked[0]!, task.taskId);
    const value = options.resume.value;
    input = new Command({ resume: /^[0-9a-f]{32}$/.test(answered.id) ? { [answered.id]: value } : value });
  }
  let output: unknown;
  try {
    output = await graph.invoke(input, config);
  } catch (err) {
    throw nodeThrowOf(err) ?? err;
  }
  const interrupts = (output as { __interrupt__?: unknown } | null)?.__interrupt__;
  if (Array.isArray(interrupts) && interrupts.length > 0) throw requestOf(interrupts[0], task.taskId);
  return toJsonResult(output, `result of task ${task.taskId}`);
}

type ParkedInterrupt = { id: string; value: unknown };

/** The interrupts a checkpoint is parked at (its pending __interrupt__ writes). */
function pendingInterrupts(tuple: CheckpointTuple): ParkedInterrupt[] {
  const out: ParkedInterrupt[] = [];
  for (const [, channel, value] of tuple.pendingWrites ?? []) {
    if (channel !== "__interrupt__" || !Array.isArray(value)) continue;
    for (const item of value) {
      if (typeof item === "object" && item !== null) out.push(item as ParkedInterrupt);
    }
  }
  return out;
}

/** An interrupt as the attempt's input_required outcome (its value made JSON). */
function requestOf(interrupt: unknown, taskId: string): InputRequired {
  const { id, value } = (interrupt ?? {}) as Partial<ParkedInterrupt>;
  return new InputRequired(
    toJsonResult(value ?? null, `input request of task ${taskId}`),
    typeof id === "string" ? id : "",
  );
}

function resolveSaver(
  graph: GraphLike,
  lent: BaseCheckpointSaver | undefined,
): BaseCheckpointSaver | undefined {
  if (graph.checkpointer === false) return undefined; // compiled to never checkpoint
  if (lent !== undefined) return lent;
  return graph.checkpointer instanceof BaseCheckpointSaver ? graph.checkpointer : undefined;
}
