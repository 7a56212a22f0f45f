import type { JsonValue } from "../json.js";

/**
 * The marker that ends an attempt waiting for input (SPEC "Waiting for input"): thrown by a
 * function handler's ctx.requestInput(value), and by runGraphTask when a LangGraph graph
 * interrupts. Not a failure: the worker reports it as the attempt's input_required outcome.
 * `key` names the request (a LangGraph interrupt id; "" for a function handler), so that the
 * answer resumes the interrupt it was given for.
 */
export class InputRequired extends Error {
  readonly code = "INPUT_REQUIRED";

  constructor(
    readonly request: JsonValue,
    readonly key = "",
  ) {
    super("the task waits for input");
    this.name = "InputRequired";
  }
}

export function isInputRequired(err: unknown): err is InputRequired {
  return err instanceof InputRequired;
}
