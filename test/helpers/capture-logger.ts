import type { Logger } from "../../src/core/logger.js";

/** One entry a component logged: its level, its fields (with its children's bindings), its message. */
export type LogEntry = { level: string; fields: Record<string, unknown>; msg: string };

/** A Logger that appends every entry to `entries`, for a test to read what was logged. */
export function captureLogger(entries: LogEntry[], bindings: Record<string, unknown> = {}): Logger {
  const at =
    (level: string) =>
    (obj: Record<string, unknown> | string, msg?: string): void => {
      if (typeof obj === "string") entries.push({ level, fields: { ...bindings }, msg: obj });
      else entries.push({ level, fields: { ...bindings, ...obj }, msg: msg ?? "" });
    };
  return {
    trace: at("trace"),
    debug: at("debug"),
    info: at("info"),
    warn: at("warn"),
    error: at("error"),
    child: (more) => captureLogger(entries, { ...bindings, ...more }),
  };
}
