import pino, { type DestinationStream } from "pino";
import type { Logger } from "../core/logger.js";
import { LOG_LEVELS, type ParsedOptions, UsageError } from "./options.js";

const LEVELS: ReadonlySet<string> = new Set(LOG_LEVELS);
const FORMATS = new Set(["auto", "pretty", "json"]);

/**
 * The CLI's logger, on stderr: readable lines on a terminal, JSON lines when piped (for log
 * shippers); --log-format / TRIAD_LOG_FORMAT (pretty, json) overrides the guess. pino-pretty is
 * loaded only when its lines are wanted, so a piped process never loads it.
 */
export async function createLogger(options: ParsedOptions, name: string): Promise<Logger> {
  const level = String(options["log-level"] ?? "info");
  const format = String(options["log-format"] ?? "auto");
  if (!LEVELS.has(level))
    throw new UsageError(`--log-level must be one of ${[...LEVELS].join(", ")} (got "${level}")`);
  if (!FORMATS.has(format))
    throw new UsageError(`--log-format must be one of ${[...FORMATS].join(", ")} (got "${format}")`);
  const pretty = format === "pretty" || (format === "auto" && process.stderr.isTTY === true);
  const stream = pretty ? await prettyStream() : pino.destination({ dest: 2, sync: true });
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

/** One line per entry, its fields after the message; colours only on a terminal. */
async function prettyStream(): Promise<DestinationStream> {
  const { default: pretty } = await import("pino-pretty");
  return pretty({
    destination: 2,
    colorize: process.stderr.isTTY === true,
    translateTime: "HH:MM:ss.l",
    ignore: "pid,hostname,name",
    singleLine: true,
    sync: true,
  });
}

/**
 * A long-running command's last words: an error nobody caught (an exception, or a rejected
 * promise nobody handled — in a user's handlers module, in a library) is logged through the
 * command's logger with its stack, then the process ends with exit code 1, as Node would end it.
 * Node's own report is a stack printed to stderr in its own format: past --log-level, and a
 * multi-line text in the middle of --log-format json's lines, which a log shipper cannot read.
 */
export function logFatalErrors(log: Logger): void {
  // --log-level silent (or fatal) must not make the cause of the end vanish: then as Node says it.
  const logs = (log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.("error") ?? true;
  const fatal = (what: string) => (err: unknown) => {
    if (logs) log.error({ err }, `${what}: the process ends`);
    else process.stderr.write(`${what}: the process ends\n${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(1);
  };
  process.on("uncaughtException", fatal("uncaught exception"));
  process.on("unhandledRejection", fatal("unhandled rejection"));
}
