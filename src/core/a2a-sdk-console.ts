import { format } from "node:util";
import type { Logger } from "./logger.js";

/**
 * The A2A SDK writes what it notes with console.* : its server (the coordinator's gateway) its
 * ResultManager's "ignoring status update … for terminal task …", when a task ends between the
 * gateway's read of it and the SDK's read of the store for that update, and its event loop's
 * failures; its client (a worker bridging an agent) an SSE event it cannot parse, a signature it
 * cannot verify. On the console they are plain-text lines among --log-format json's lines, and
 * past --log-level. While a route is open (a gateway, a bridged agent), a console call made by
 * the SDK's own code (its frame is the caller's) goes to that route's logger instead; every
 * other console call goes where it went. In core: the server and the worker both route, and a
 * worker loads no server.
 */

const METHODS = ["error", "warn", "info", "log", "debug"] as const;
type Method = (typeof METHODS)[number];

/** The SDK's files, wherever it is installed. */
const SDK_FRAME = /[\\/]@a2a-js[\\/]sdk[\\/]/;

/** A stale status update the SDK dropped, or an event for a task it does not know: expected under races. */
const EXPECTED_NOTE = /^ResultManager: (ignoring status update|Received .* for unknown task)/;

/** The open routes' loggers: the SDK's lines go to the last opened. */
const loggers: Logger[] = [];
/** The wrappers put in place, in order (a console method replaced since is wrapped again). */
let installed: Array<{ method: Method; original: Console[Method]; wrapper: Console[Method] }> = [];
const wrappers = new WeakSet<Console[Method]>();

/** Routes the SDK's console lines to `log` until the returned function is called (once a gateway or a bridged agent closes). */
export function routeSdkConsole(log: Logger): () => void {
  loggers.push(log);
  install();
  let routed = true;
  return () => {
    if (!routed) return;
    routed = false;
    loggers.splice(loggers.indexOf(log), 1);
    if (loggers.length === 0) uninstall();
  };
}

/**
 * Wraps each console method that is not one of these wrappers: all of them at the first route;
 * at a later one, those replaced since (a test's spy, another library's wrapper), which would
 * otherwise take the SDK's lines past the routing while that route is open.
 */
function install(): void {
  for (const method of METHODS) {
    const original = console[method];
    if (wrappers.has(original)) continue;
    const wrapper = (...args: unknown[]): void => {
      const log = loggers.at(-1);
      if (log !== undefined && calledFromSdk(wrapper)) toLogger(log, method, args);
      else original.apply(console, args);
    };
    wrappers.add(wrapper);
    console[method] = wrapper;
    installed.push({ method, original, wrapper });
  }
}

function uninstall(): void {
  // Newest first; one replaced since (a test's spy, another library's wrapper) is left as it is.
  for (const { method, original, wrapper } of installed.reverse())
    if (console[method] === wrapper) console[method] = original;
  installed = [];
}

/** Whether the frame that called `fn` is in the SDK's code. */
function calledFromSdk(fn: (...args: unknown[]) => void): boolean {
  const limit = Error.stackTraceLimit;
  const holder: { stack?: string } = {};
  try {
    Error.stackTraceLimit = 1;
    Error.captureStackTrace(holder, fn);
  } finally {
    Error.stackTraceLimit = limit;
  }
  return SDK_FRAME.test(holder.stack?.split("\n")[1] ?? "");
}

function toLogger(log: Logger, method: Method, args: unknown[]): void {
  const err = args.find((a) => a instanceof Error);
  const msg = format(...args.filter((a) => a !== err));
  const fields = err === undefined ? { source: "a2a-sdk" } : { source: "a2a-sdk", err };
  if (method === "error") log.error(fields, msg);
  else if (method === "warn" && !EXPECTED_NOTE.test(msg)) log.warn(fields, msg);
  else log.debug(fields, msg);
}
