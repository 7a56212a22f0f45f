import type { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../../core/errors.js";
import { assertJson, isPlainJson, type JsonObject, type JsonValue } from "../../core/json.js";
import { runGraphTask } from "../../core/state/index.js";
import { depthProblem, MAX_PAYLOAD_DEPTH } from "../payload-depth.js";
import type { DependencyOutcome } from "../protocol.js";
import { type SpawnInput, SpawnList } from "../workflow/spawn-list.js";

/**
 * What a handler may look at: a signal that fires when its time is up, the attempt's number,
 * the outcome of each dependency, and spawn(), which adds tasks that exist only if this attempt
 * completes (recorded by its commit; ids `<task id>.<n>` unless given).
 */
export type HandlerContext = {
  signal: AbortSignal;
  attempt: number;
  dependencies: Record<string, DependencyOutcome>;
  spawn: (tasks: SpawnInput[]) => string[];
};

export type HandlerTask = { taskId: string; taskType: string; payload: JsonObject };

/** A compiled LangGraph graph, or anything else with the same invoke(). */
export type GraphHandler = {
  invoke(input: unknown, config?: Record<string, unknown>): Promise<unknown>;
};

export type FunctionHandler<T extends HandlerTask = HandlerTask> = (
  task: T,
  context: HandlerContext,
) => JsonValue | Promise<JsonValue>;

export type TaskHandler<T extends HandlerTask = HandlerTask> = FunctionHandler<T> | GraphHandler;

export type RunOutcome =
  | { status: "completed"; result: JsonValue; spawn?: JsonObject[] }
  | { status: "failed"; error: string };

export function isGraphHandler(handler: unknown): handler is GraphHandler {
  return (
    typeof handler === "object" && handler !== null && typeof (handler as GraphHandler).invoke === "function"
  );
}

/**
 * Runs one attempt of a task to an outcome. Whatever the handler does — throws, hangs past
 * `timeoutMs`, returns something JSON cannot carry — ends as a failed outcome with a message
 * that says so; it never escapes to the worker.
 */
export async function runTask<T extends HandlerTask>(
  handler: TaskHandler<T> | undefined,
  task: T,
  options: {
    timeoutMs: number;
    attempt?: number;
    checkpointer?: BaseCheckpointSaver | undefined;
    dependencies?: Record<string, DependencyOutcome> | undefined;
  },
): Promise<RunOutcome> {
  if (handler === undefined) {
    return {
      status: "failed",
      error: `unknown task type "${task.taskType}": no handler is registered for it on this worker`,
    };
  }
  // The abort controller costs more than an echo handler: made only if the handler looks at
  // its signal (or a graph runs). A handler that answers synchronously needs no timer either.
  let abort: AbortController | undefined;
  const signal = () => {
    abort ??= new AbortController();
    return abort.signal;
  };
  let timer: NodeJS.Timeout | undefined;
  let spawned: SpawnList | undefined;
  try {
    let value: unknown;
    if (isGraphHandler(handler)) {
      value = runGraphTask(handler, task, {
        signal: signal(),
        ...(options.checkpointer ? { checkpointer: options.checkpointer } : {}),
      });
    } else {
      const context: HandlerContext = {
        get signal() {
          return signal();
        },
        attempt: options.attempt ?? 1,
        dependencies: options.dependencies ?? {},
        spawn: (tasks) => {
          spawned ??= new SpawnList(task.taskId);
          return spawned.add(tasks);
        },
      };
      value = handler(task, context);
    }
    if (isPromiseLike(value)) {
      const timedOut = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          const err = new TriadError("ERR_TASK_TIMEOUT", `task timed out after ${options.timeoutMs} ms`);
          abort?.abort(err);
          reject(err);
        }, options.timeoutMs);
      });
      value = await Promise.race([value, timedOut]);
    }
    const spawn = spawned?.toJSON();
    return spawn === undefined
      ? { status: "completed", result: toJson(value) }
      : { status: "completed", result: toJson(value), spawn };
  } catch (err) {
    return { status: "failed", error: describe(err) };
  } finally {
    clearTimeout(timer);
  }
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  if (isPlainJson(value, MAX_PAYLOAD_DEPTH - 1)) return value as JsonValue; // the common case: nothing to convert
  // Too deep for any message to carry: the attempt fails now, with the reason (checked before
  // the conversion, whose walk recurses).
  const problem = depthProblem(value, "the result");
  if (problem !== null) {
    // A cycle is endlessly deep to the depth walk, but what is wrong with it is that it is not JSON.
    if (isCyclic(value)) {
      throw new TriadError(
        "ERR_RESULT_NOT_JSON",
        "the handler returned something that is not JSON (it contains a cycle)",
      );
    }
    throw new TriadError("ERR_RESULT_TOO_DEEP", problem);
  }
  return converted(value);
}

/** True when JSON.stringify finds a cycle (it checks before it recurses far; only on the error path). */
function isCyclic(value: unknown): boolean {
  try {
    JSON.stringify(value, (_key, member: unknown) => (typeof member === "bigint" ? null : member));
    return false;
  } catch (err) {
    return err instanceof TypeError && /circular/i.test(err.message);
  }
}

function converted(value: unknown): JsonValue {
  try {
    assertJson(value, "result");
  } catch (err) {
    throw new TriadError(
      "ERR_RESULT_NOT_JSON",
      `the handler returned something that is not JSON (${(err as Error).message})`,
    );
  }
  // Through JSON once, so class instances with toJSON (LangGraph messages, Dates) become plain data.
  return value === undefined ? null : (JSON.parse(JSON.stringify(value)) as JsonValue);
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message || err.name;
  try {
    return `the handler threw ${JSON.stringify(err)}`;
  } catch {
    return `the handler threw ${String(err)}`;
  }
}
