/**
 * What Triad's components log through: the shape of a pino logger, so the CLI hands them a
 * real pino and a library user can hand them theirs (or nothing: silent).
 */
export type LogFn = (obj: Record<string, unknown> | string, msg?: string) => void;
export type Logger = {
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  child(bindings: Record<string, unknown>): Logger;
};

const noop: LogFn = () => {};

export const silentLogger: Logger = {
  trace: noop,
  debug: noop,
  info: noop,
  warn: noop,
  error: noop,
  child: () => silentLogger,
};
