/**
 * Every error Triad raises for bad input or an illegal state change is a TriadError with a
 * stable `code`, so callers can branch on the code and users read a message that says what
 * was wrong and where.
 */
export class TriadError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "TriadError";
    this.code = code;
    this.details = details;
  }
}

export function isTriadError(err: unknown, code?: string): err is TriadError {
  return err instanceof TriadError && (code === undefined || err.code === code);
}
