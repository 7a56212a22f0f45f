/**
 * What a LangGraph node threw when it threw something that is not an object (`throw "boom"`).
 * LangGraph tags a node's error with the task's id (`error.pregelTaskId = ...`), which on a
 * string, a number or null is itself a TypeError, and that is all graph.invoke rejects with:
 * the thrown value is lost but for V8's message, which quotes it in full. Read back from there,
 * so the task fails with what the node threw, as a function handler's does.
 */
const ON_PRIMITIVE =
  /^Cannot create property 'pregelTaskId' on (string|number|boolean|bigint|symbol) '([\s\S]*)'$/;
const ON_NOTHING = /^Cannot set properties of (null|undefined) \(setting 'pregelTaskId'\)$/;

/** The error to fail the attempt with instead of LangGraph's own, or undefined to keep `err`. */
export function nodeThrowOf(err: unknown): Error | undefined {
  if (!(err instanceof TypeError)) return undefined;
  const primitive = ON_PRIMITIVE.exec(err.message);
  if (primitive !== null) {
    const [, type, text] = primitive;
    return new Error(`a graph node threw ${type === "string" ? JSON.stringify(text) : text}`);
  }
  const nothing = ON_NOTHING.exec(err.message);
  if (nothing !== null) return new Error(`a graph node threw ${nothing[1]}`);
  return undefined;
}
