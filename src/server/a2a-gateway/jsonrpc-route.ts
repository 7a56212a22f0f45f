import {
  A2A_VERSION_HEADER,
  Extensions,
  formatSSEErrorEvent,
  formatSSEEvent,
  HTTP_EXTENSION_HEADER,
  SSE_HEADERS,
} from "@a2a-js/sdk";
import {
  type A2ARequestHandler,
  defaultServerCallContextBuilder,
  JsonRpcTransportHandler,
  validateVersion,
} from "@a2a-js/sdk/server";
import type { UserBuilder } from "@a2a-js/sdk/server/express";
import type { Request, RequestHandler, Response } from "express";
import type { Logger } from "../../core/logger.js";
import { noteRpcError } from "./jsonrpc-envelope.js";
import { answerNotification, isNotification, notificationCall } from "./notification.js";

/** JSON-RPC's "internal error": the only code that is the server's fault (HTTP 500). */
const INTERNAL_ERROR = -32603;

type RpcError = ReturnType<typeof JsonRpcTransportHandler.mapToJSONRPCError>;

/**
 * POST /a2a/jsonrpc: the A2A 1.0 JSON-RPC binding, as the SDK's `jsonRpcHandler` serves it (the
 * same transport handler, version check, context, SSE framing and answers), with Triad's logger
 * instead of `console.error`.
 *
 * The SDK's route printed a stack trace to stderr for every request refused outside its transport
 * handler: each request without an `A2A-Version` header (read as 0.3, which Triad does not
 * serve), each SubscribeToTask of an unknown or finished task, each stream whose first event was an
 * error. Any client could fill an operator's log with them, past `--log-level` and into the middle
 * of `--log-format json`. Here a refusal a client caused is answered as before and logged at
 * debug; only a fault of the server (JSON-RPC -32603, HTTP 500) is logged as an error.
 */
export function jsonRpcRoute(options: {
  requestHandler: A2ARequestHandler;
  userBuilder: UserBuilder;
  log: Logger;
}): RequestHandler {
  const transport = new JsonRpcTransportHandler(options.requestHandler);
  const { log } = options;
  const report = (req: Request, error: RpcError, where: string, err: unknown) => {
    const fields = { method: methodOf(req), code: error.code, detail: error.message };
    if (error.code === INTERNAL_ERROR) log.error({ ...fields, err }, `A2A gateway: ${where} failed`);
    else log.debug(fields, `A2A gateway: ${where} refused`);
  };

  return async (req, res, next) => {
    if (req.method !== "POST" || req.path !== "/") return next();
    const id = idOf(req);
    const notification = isNotification(req.body);
    let stream: AsyncGenerator<unknown, void, undefined> | undefined;
    try {
      const user = await options.userBuilder(req);
      const context = defaultServerCallContextBuilder({
        extensions: Extensions.parseServiceParameter(req.header(HTTP_EXTENSION_HEADER)),
        user,
        headers: req.headers,
        requestedVersion: req.header(A2A_VERSION_HEADER) || undefined,
      });
      validateVersion(context.requestedVersion, await options.requestHandler.getAgentCard(), "JSONRPC");
      const body = req.body as Record<string, unknown>;
      const answer = await transport.handle(notification ? notificationCall(body) : body, context);
      if (notification) {
        // Run, and not answered (JSON-RPC 2.0): a stream is closed unread.
        if (isStream(answer)) await answer.return();
        const error = (answer as { error?: RpcError } | undefined)?.error;
        if (error !== undefined) report(req, error, "notification", undefined);
        return answerNotification(res);
      }
      if (context.activatedExtensions) res.setHeader(HTTP_EXTENSION_HEADER, [...context.activatedExtensions]);
      if (!isStream(answer)) {
        // The transport handler answers a handler's failure itself (-32603), without a word.
        const error = (answer as { error?: RpcError }).error;
        if (error !== undefined) noteRpcError(res, error.code);
        if (error?.code === INTERNAL_ERROR) report(req, error, "request", undefined);
        return void res.status(200).json(answer);
      }
      stream = answer;
    } catch (err) {
      const error = JsonRpcTransportHandler.mapToJSONRPCError(err);
      report(req, error, notification ? "notification" : "request", err);
      if (notification) return answerNotification(res);
      noteRpcError(res, error.code);
      if (!res.headersSent) res.status(error.code === INTERNAL_ERROR ? 500 : 200).json(rpcError(id, error));
      else if (!res.writableEnded) res.end();
      return;
    }
    await sendStream(req, res, id, stream, report);
  };
}

/**
 * An SSE answer: its first event decides between a stream and a single JSON-RPC error (a
 * SubscribeToTask of an unknown task is refused with a 200 and no stream, as the SDK does).
 */
async function sendStream(
  req: Request,
  res: Response,
  id: string | number | null,
  stream: AsyncGenerator<unknown, void, undefined>,
  report: (req: Request, error: RpcError, where: string, err: unknown) => void,
): Promise<void> {
  let first: IteratorResult<unknown, void>;
  try {
    first = await stream.next();
  } catch (err) {
    const error = JsonRpcTransportHandler.mapToJSONRPCError(err);
    report(req, error, "stream", err);
    noteRpcError(res, error.code);
    if (!res.headersSent) res.status(200).json(rpcError(id, error));
    return;
  }
  for (const [name, value] of Object.entries(SSE_HEADERS)) res.setHeader(name, value);
  res.flushHeaders();
  try {
    if (!first.done) res.write(formatSSEEvent(first.value));
    for (let next = await stream.next(); !next.done; next = await stream.next()) {
      res.write(formatSSEEvent(next.value));
    }
  } catch (err) {
    const error = JsonRpcTransportHandler.mapToJSONRPCError(err);
    report(req, error, "stream", err);
    noteRpcError(res, error.code);
    if (!res.writableEnded) res.write(formatSSEErrorEvent(rpcError(id, error)));
  } finally {
    if (!res.writableEnded) res.end();
  }
}

function rpcError(id: string | number | null, error: RpcError) {
  return { jsonrpc: "2.0", id, error };
}

function isStream(answer: unknown): answer is AsyncGenerator<unknown, void, undefined> {
  return typeof (answer as AsyncIterable<unknown> | null)?.[Symbol.asyncIterator] === "function";
}

/** The request's id, when the body has one a JSON-RPC answer may carry (the envelope check passed). */
function idOf(req: Request): string | number | null {
  const id = (req.body as { id?: unknown } | undefined)?.id;
  return typeof id === "string" || typeof id === "number" ? id : null;
}

function methodOf(req: Request): string | undefined {
  const method = (req.body as { method?: unknown } | undefined)?.method;
  return typeof method === "string" ? method : undefined;
}
