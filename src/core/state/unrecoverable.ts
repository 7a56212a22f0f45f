/**
 * Thrown by a handler when trying again cannot help (the input is wrong, the credentials are
 * refused, the thing asked for does not exist): the task fails now, whatever retries it has
 * left. Any other error fails the attempt, and the task is retried while it has retries.
 *
 * Recognised by its name as well, so that an error of another copy of this module, or BullMQ's
 * own UnrecoverableError in a handler moved from BullMQ, does the same; and any error with
 * `retryable: false`, on itself or in a TriadError's details (a Temporal-style flag).
 */
export class UnrecoverableError extends Error {
  readonly code = "UNRECOVERABLE";

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UnrecoverableError";
  }
}

/** Whether `err` says the task must not be tried again (see UnrecoverableError). */
export function isUnrecoverable(err: unknown): boolean {
  if (err instanceof UnrecoverableError) return true;
  if (typeof err !== "object" || err === null) return false;
  const { name, retryable, details } = err as { name?: unknown; retryable?: unknown; details?: unknown };
  if (name === "UnrecoverableError" || retryable === false) return true;
  return (
    typeof details === "object" &&
    details !== null &&
    (details as { retryable?: unknown }).retryable === false
  );
}
