import pino from "pino";
import pretty from "pino-pretty";
import type { Logger } from "../core/logger.js";
import { UsageError } from "./options.js";

const LEVELS = new Set(["trace", "debug", "info", "warn", "error", "fatal", "silent"]);

/** Readable lines on a terminal, JSON lines otherwise (for log shippers); always on stderr. */
export function createLogger(level: string, name: string): Logger {
  if (!LEVELS.has(level))
    throw new UsageError(`--log-level must be one of ${[...LEVELS].join(", ")} (got "${level}")`);
  const stream = process.stderr.isTTY
    ? pretty({
        destination: 2,
        colorize: true,
        translateTime: "HH:MM:ss.l",
        ignore: "pid,hostname",
        sync: true,
      })
    : pino.destination({ dest: 2, sync: true });
  return pino(
    {
      name,
      level,
      // Secrets must never reach a log line, whatever object is passed in.
      redact: {
        paths: ["*.tokenSecret", "*.password", "*.secret", "tokenSecret", "password", "secret"],
        censor: "[redacted]",
      },
    },
    stream,
  ) as unknown as Logger;
}
