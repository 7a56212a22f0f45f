import type { Message } from "@a2a-js/sdk";
import { depthProblem } from "../../agents/payload-depth.js";
import type { JsonValue } from "../../core/json.js";

/**
 * The input a SendMessage gives to the task it names (a task waiting for input, SPEC "Waiting
 * for input"): its data part's value, or else its text parts joined by newlines. Undefined when
 * the message has neither. A data value too deep for a task to carry is refused by the caller
 * (inputProblem).
 */
export function inputOf(message: Message): JsonValue | undefined {
  for (const part of message.parts) {
    if (part.content?.$case === "data") return (part.content.value ?? null) as JsonValue;
  }
  const texts = message.parts.flatMap((p) => (p.content?.$case === "text" ? [p.content.value] : []));
  return texts.length > 0 ? texts.join("\n") : undefined;
}

/** Why the message cannot be the input of a task, or null. */
export function inputProblem(message: Message): string | null {
  const value = inputOf(message);
  if (value === undefined) return "the input is a data part (any JSON) or text; the message has neither";
  return depthProblem(value, "the input");
}
