import type { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../../core/errors.js";
import { assertJson, isPlainJson, type JsonObject, type JsonValue, jsonCopy } from "../../core/json.js";
import { InputRequired, isInputRequired, isUnrecoverable, runGraphTask } from "../../core/state/index.js";
import type { AttemptCancel } from "../live/attempt-cancel.js";
import { checkProgress } from "../live/progress-value.js";
import { depthProblem, isCyclic, MAX_PAYLOAD_DEPTH } from "../payload-depth.js";
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
  /**
   * Reports how far the attempt has come (any JSON): the task's `progress` key shows the latest
   * value within about a second. Cheap to call often: values are coalesced on the worker.
   */
  progress: (value: JsonValue) => void;
  /** Every value given to the task so far, in order (SPEC "Waiting for input"). */
  inputs: JsonValue[];
  /**
   * Ends the attempt input_required, asking for `request` (it throws); the task runs again once
   * given input. With no request (or undefined) it asks with no question: the request is null.
   */
  requestInput: (request?: JsonValue) => never;
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
  /** `retry: false`: the handler threw an UnrecoverableError — the task fails whatever retries it has left. */
  | { status: "failed"; error: string; retry?: false }
  /** The handler asked for input (ctx.requestInput, a graph's interrupt): `key` names the request. */
  | { status: "input_required"; request: JsonValue; key: string };

export function isGraphHandler(handler: unknown): handler is GraphHandler {
  return (
    typeof handler === "object" && handler !== null && typeof (handler as GraphHandler).invoke === "function"
  );
}

export type RunOptions = {
  timeoutMs: number;
  attempt?: number;
  checkpointer?: BaseCheckpointSaver | undefined;
  dependencies?: Record<string, DependencyOutcome> | undefined;
  /** The values given to the task so far (ctx.inputs), and the key of the request the last one answered. */
  inputs?: JsonValue[] | undefined;
  resumeKey?: string | undefined;
  /** Where ctx.progress values go (src/agents/live/); checked before they get there. */
  onProgress?: ((value: JsonValue) => void) | undefined;
  /** Aborted when the task is canceled: the handler's signal fires and the attempt ends at once. */
  cancel?: AttemptCancel | undefined;
};

/**
 * Runs one attempt of a task to an outcome. Whatever the handler does — throws, hangs past
 * `timeoutMs`, returns something JSON cannot carry — ends as a failed outcome with a message
 * that says so; it never escapes to the worker.
 */
export async function runTask<T extends HandlerTask>(
  handler: TaskHandler<T> | undefined,
  task: T,
  options: RunOptions,
): Promise<RunOutcome> {
  return runAttempt(handler, task, options);
}

/**
 * runTask, answering at once when the handler does (a function that returns a value, not a
 * promise): no promise, timer or microtask for the most common handler. A handler that returns a
 * promise (and every graph) gives a promise of the outcome, settled by the first of three: the
 * handler, its time, its cancel.
 */
export function runAttempt<T extends HandlerTask>(
  handler: TaskHandler<T> | undefined,
  task: T,
  options: RunOptions,
): RunOutcome | Promise<RunOutcome> {
  if (handler === undefined) {
    return {
      status: "failed",
      error: `unknown task type "${task.taskType}": no handler is registered for it on this worker`,
    };
  }
  const context = new AttemptContext(task.taskId, options);
  let value: unknown;
  try {
    if (isGraphHandler(handler)) {
      value = runGraphTask(handler, task, {
        signal: context.signal,
        progress: context.progress,
        ...(options.attempt !== undefined ? { attempt: options.attempt } : {}),
        ...(options.checkpointer ? { checkpointer: options.checkpointer } : {}),
        ...(options.inputs?.length && options.resumeKey
          ? { resume: { key: options.resumeKey, value: options.inputs.at(-1)! } }
          : {}),
      });
    } else {
      value = handler(task, context);
    }
  } catch (err) {
    return failedOutcome(err);
  }
  if (!isPromiseLike(value)) return settledOutcome(value, AttemptContext.spawned(context));
  // The first of three ends the attempt: the handler settles, its time is up, or the task was
  // canceled (either of the last two fires the handler's signal; it may run on, and its outcome
  // is refused by its fence). One promise settled by whichever comes first, which costs less per
  // task than a Promise.race against a promise of the timer.
  const pending = value;
  let timer: NodeJS.Timeout | undefined;
  let unhook: (() => void) | undefined;
  return new Promise<unknown>((resolve, reject) => {
    timer = setTimeout(() => {
      const err = new TriadError("ERR_TASK_TIMEOUT", `task timed out after ${options.timeoutMs} ms`);
      // Rejected first: a handler that settles in its abort listener must not win.
      reject(err);
      AttemptContext.abort(context, err);
    }, options.timeoutMs);
    const cancel = options.cancel;
    if (cancel !== undefined)
      unhook = cancel.onCancel(() => {
        reject(cancel.reason);
        if (cancel.tellsHandler) AttemptContext.abort(context, cancel.reason);
      });
    pending.then(resolve, reject);
  }).then(
    (settled) => {
      clearTimeout(timer);
      unhook?.();
      return settledOutcome(settled, AttemptContext.spawned(context));
    },
    (err: unknown) => {
      clearTimeout(timer);
      unhook?.();
      return failedOutcome(err);
    },
  );
}

/**
 * The HandlerContext of one attempt. Most handlers look at little of it (an echo at none), so
 * what costs something is made when first read: the abort controller (it costs more than an echo
 * handler), the spawn list, and each function, made once and bound to this attempt, so a handler
 * may take them apart (`(task, { spawn, signal }) => ...`). Its members are getters of the class:
 * a handler passes the context on whole, or takes the members it uses (`{ ...context }` copies
 * none). Measured with bench/ab.ts (100 in flight, 3 runs of 10 pairs): node CPU 7-9 % less a
 * task, the rate +2 to +5 % (medians).
 */
class AttemptContext implements HandlerContext {
  readonly #taskId: string;
  readonly #options: RunOptions;
  #controller: AbortController | undefined;
  #spawned: SpawnList | undefined;
  #spawn: HandlerContext["spawn"] | undefined;
  #progress: HandlerContext["progress"] | undefined;
  #dependencies: Record<string, DependencyOutcome> | undefined;
  #inputs: JsonValue[] | undefined;

  constructor(taskId: string, options: RunOptions) {
    this.#taskId = taskId;
    this.#options = options;
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      const cancel = this.#options.cancel;
      if (cancel?.reason !== undefined && cancel.tellsHandler) this.#controller.abort(cancel.reason);
    }
    return this.#controller.signal;
  }

  get attempt(): number {
    return this.#options.attempt ?? 1;
  }

  get dependencies(): Record<string, DependencyOutcome> {
    this.#dependencies ??= this.#options.dependencies ?? {};
    return this.#dependencies;
  }

  get inputs(): JsonValue[] {
    this.#inputs ??= this.#options.inputs ?? [];
    return this.#inputs;
  }

  get spawn(): HandlerContext["spawn"] {
    this.#spawn ??= (tasks) => {
      this.#spawned ??= new SpawnList(this.#taskId);
      return this.#spawned.add(tasks);
    };
    return this.#spawn;
  }

  get progress(): HandlerContext["progress"] {
    this.#progress ??= (value) => {
      const checked = checkProgress(value);
      this.#options.onProgress?.(checked);
    };
    return this.#progress;
  }

  get requestInput(): HandlerContext["requestInput"] {
    return requestInput;
  }

  // Static, so that they are no members of the context a handler sees.
  /** The tasks the handler spawned, if it did. */
  static spawned(context: AttemptContext): SpawnList | undefined {
    return context.#spawned;
  }

  /** Fires the handler's signal, if it ever read it (the attempt's time is up, or it was canceled). */
  static abort(context: AttemptContext, reason: unknown): void {
    context.#controller?.abort(reason);
  }
}

function requestInput(request?: JsonValue): never {
  // No question is a request too (null), as a LangGraph interrupt() with no value is.
  throw new InputRequired(request === undefined ? null : assertJson(request, "the input request"));
}

/**
 * The outcome of a handler that gave `value` (failed when JSON cannot carry it). What the
 * handler gave is copied here, once: the outcome is then the worker's own, and goes to the
 * distributor without another copy (WorkerAgent.handsOver), whatever the handler does next with
 * the objects it returned.
 */
function settledOutcome(value: unknown, spawned: SpawnList | undefined): RunOutcome {
  try {
    const spawn = spawned?.toJSON();
    return spawn === undefined
      ? { status: "completed", result: toJson(value) }
      : { status: "completed", result: toJson(value), spawn: jsonCopy(spawn) as JsonObject[] };
  } catch (err) {
    return failedOutcome(err);
  }
}

/** The outcome of a handler that threw (or whose value could not be taken): input_required or failed. */
function failedOutcome(err: unknown): RunOutcome {
  if (isInputRequired(err))
    return { status: "input_required", request: jsonCopy(err.request) as JsonValue, key: err.key };
  if (isUnrecoverable(err)) return { status: "failed", error: describe(err), retry: false };
  return { status: "failed", error: describe(err) };
}

function isPromiseLike(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === "object" && value !== null && typeof (value as { then?: unknown }).then === "function"
  );
}

function toJson(value: unknown): JsonValue {
  if (value === undefined) return null;
  // The common case: nothing to convert, only the copy the outcome keeps (see settledOutcome).
  if (isPlainJson(value, MAX_PAYLOAD_DEPTH - 1)) return jsonCopy(value) as JsonValue;
  // Too deep for any message to carry: the attempt fails now, with the reason (checked before
  // the conversion, whose walk recurses).
  const problem = depthProblem(value, "the result");
  if (problem !== null) {
    // A cycle is endlessly deep to the depth walk, but what is wrong with it is that it is not JSON.
    if (isCyclic(value)) {
      throw notRetryable(
        "ERR_RESULT_NOT_JSON",
        "the handler returned something that is not JSON (it contains a cycle)",
      );
    }
    throw notRetryable("ERR_RESULT_TOO_DEEP", problem);
  }
  return converted(value);
}

/**
 * A result JSON cannot carry fails the task at once, as a bad payload does: the handler was
 * given the same task and would give the same kind of value again (retrying cost 3 attempts).
 */
function notRetryable(code: string, message: string): TriadError {
  return new TriadError(code, message, { retryable: false });
}

function converted(value: unknown): JsonValue {
  try {
    assertJson(value, "result");
  } catch (err) {
    throw notRetryable(
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
