import express, { type ErrorRequestHandler, type RequestHandler, type Response } from "express";
import { z } from "zod";
import { isPlainObject, protoMemberPath } from "../../core/json.js";
import { duplicateKeyMessage, duplicateKeyPath } from "../../core/json-duplicate-key.js";
import { bodyHeldBack, inviteBody } from "../../core/messaging/http/expect-continue.js";
import { shownValue } from "../../core/option-kinds.js";
import { DEFAULT_MAX_BODY_BYTES } from "../http-util.js";
import { idProblem, MESSAGE_METHODS, TASK_ID_METHODS } from "./id-params.js";
import { listStatusProblem } from "./list-params.js";
import { messageRoleProblem } from "./message-role.js";
import { answerNotification, isNotification } from "./notification.js";

/** The JSON-RPC 2.0 error codes this check answers with. */
export const JSONRPC_ERROR = {
  parse: -32700,
  invalidRequest: -32600,
  methodNotFound: -32601,
  invalidParams: -32602,
} as const;

/** Notes the JSON-RPC error code `res` answers with (its HTTP status is 200 all the same), for counting. */
export function noteRpcError(res: Response, code: number): void {
  res.locals.rpcErrorCode = code;
}

/** The JSON-RPC error code noted for `res`; undefined when it answered a result. */
export function rpcErrorOf(res: Response): number | undefined {
  return res.locals.rpcErrorCode as number | undefined;
}

/** The methods of the A2A 1.0 JSON-RPC binding. */
export const A2A_METHODS: ReadonlySet<string> = new Set([
  "SendMessage",
  "SendStreamingMessage",
  "GetTask",
  "ListTasks",
  "CancelTask",
  "SubscribeToTask",
  "CreateTaskPushNotificationConfig",
  "GetTaskPushNotificationConfig",
  "ListTaskPushNotificationConfigs",
  "DeleteTaskPushNotificationConfig",
  "GetExtendedAgentCard",
]);
/** The push-notification-config methods: the card says pushNotifications false, and each is -32003. */
const PUSH_CONFIG_METHODS: ReadonlySet<string> = new Set([
  "CreateTaskPushNotificationConfig",
  "GetTaskPushNotificationConfig",
  "ListTaskPushNotificationConfigs",
  "DeleteTaskPushNotificationConfig",
]);
/** Where each method takes a `historyLength` (A2A 1.0: an int32, unset means no limit). */
const HISTORY_LENGTH_AT: Readonly<Record<string, "params" | "configuration">> = {
  GetTask: "params",
  ListTasks: "params",
  SendMessage: "configuration",
  SendStreamingMessage: "configuration",
};
const INT32_MAX = 2 ** 31 - 1;
/**
 * The google.rpc.ErrorInfo `reason` of each error answered here: INVALID_PARAMS as the SDK writes
 * it for its own -32602s; the others named as JSON-RPC names the error, so every error answered
 * before the SDK carries the same `data` shape.
 */
const ERROR_REASON: Readonly<Record<number, string>> = {
  [JSONRPC_ERROR.parse]: "PARSE_ERROR",
  [JSONRPC_ERROR.invalidRequest]: "INVALID_REQUEST",
  [JSONRPC_ERROR.methodNotFound]: "METHOD_NOT_FOUND",
  [JSONRPC_ERROR.invalidParams]: "INVALID_PARAMS",
};

/** An A2A error's `data`: one ErrorInfo, its metadata (string values) naming what was wrong. */
function errorInfo(code: number, metadata?: Record<string, string>) {
  return [
    {
      "@type": "type.googleapis.com/google.rpc.ErrorInfo",
      reason: ERROR_REASON[code] ?? "INTERNAL",
      domain: "a2a-protocol.org",
      ...(metadata ? { metadata } : {}),
    },
  ];
}

const requestId = z.union([z.string(), z.number().int(), z.null()]);
const envelope = z.object({
  jsonrpc: z.literal("2.0"),
  id: requestId.optional(),
  method: z.string().min(1),
  params: z.unknown().optional(),
});

/**
 * The JSON-RPC 2.0 envelope checked before the A2A SDK sees it, so each fault gets the code
 * JSON-RPC names for it (the SDK answers most of them -32602): a body that does not parse is
 * -32700 (one that names a member twice too, in an HTTP 400 with `data.code` ERR_DUPLICATE_KEY); one that is not a single request object (empty, an array, "jsonrpc" other than
 * "2.0", no method, an id of the wrong type) is -32600; an unknown method -32601; params that
 * are not an object, a task id that is not a string, or a `historyLength` that is not an
 * integer from 0 up, -32602. And an A2A-Version with a
 * patch number ("1.0.3") is read as its major.minor: patch numbers take no part in
 * negotiation (A2A 3.6), and the SDK compares the header whole.
 */
export function jsonRpcEnvelope(maxBodyBytes = DEFAULT_MAX_BODY_BYTES): RequestHandler[] {
  // The REST API's limit (express.json's own default is 100 KB: a task POST /tasks took was a 413 here).
  // The text is kept for the duplicate-key check, made once it is known to parse.
  const texts = new WeakMap<object, Buffer>();
  const parseJson = express.json({
    strict: false,
    limit: maxBodyBytes,
    verify: (req, _res, buf) => void texts.set(req, buf),
  });
  // A body declared over the limit is refused before it is invited (Expect: 100-continue).
  const invite: RequestHandler = (req, res, next) => {
    const declared = Number(req.headers["content-length"]);
    if (bodyHeldBack(req) && Number.isFinite(declared) && declared > maxBodyBytes) {
      const message = `the body is ${declared} bytes; the limit is ${maxBodyBytes}`;
      return void res.status(413).json({ error: { code: "ERR_BODY_TOO_LARGE", message } });
    }
    inviteBody(req);
    next();
  };
  const parseError: ErrorRequestHandler = (err, _req, res, next) => {
    if (err instanceof SyntaxError && "body" in err) {
      return void answerError(res, null, JSONRPC_ERROR.parse, `the body is not JSON: ${err.message}`);
    }
    next(err);
  };
  const check: RequestHandler = (req, res, next) => {
    if (req.method !== "POST") return next();
    const text = texts.get(req);
    const duplicate = text === undefined ? null : duplicateKeyPath(text.toString("utf8"));
    if (duplicate !== null) {
      // Refused as the REST API refuses it (400 ERR_DUPLICATE_KEY), in a JSON-RPC parse error.
      noteRpcError(res, JSONRPC_ERROR.parse);
      const error = {
        code: JSONRPC_ERROR.parse,
        message: `Parse error: ${duplicateKeyMessage(duplicate)}`,
        data: { code: "ERR_DUPLICATE_KEY" },
      };
      return void res.status(400).json({ jsonrpc: "2.0", id: null, error });
    }
    const problem = envelopeProblem(req.body as unknown, text === undefined || text.toString().trim() === "");
    if (problem === null) {
      // Push notifications are not supported whatever a request names: one without params is
      // answered so too (-32003), where the SDK said "Invalid method parameters." (-32602).
      const body = req.body as { method: string; params?: unknown };
      if (PUSH_CONFIG_METHODS.has(body.method) && body.params === undefined) body.params = {};
      return next();
    }
    // A notification (no id) is not answered, its error neither; a body that is no request
    // object at all (-32600) is no notification, and is.
    if (problem.code !== JSONRPC_ERROR.invalidRequest && isNotification(req.body)) {
      return void answerNotification(res);
    }
    answerError(res, problem.id, problem.code, problem.message, problem.metadata);
  };
  return [dropPatchVersion, invite, parseJson, parseError as unknown as RequestHandler, check];
}

const dropPatchVersion: RequestHandler = (req, _res, next) => {
  const version = /^\s*(\d+\.\d+)\.\d+\s*$/.exec(req.headers["a2a-version"]?.toString() ?? "");
  if (version !== null) req.headers["a2a-version"] = version[1];
  next();
};

const SEND_ONE = 'send one {"jsonrpc": "2.0", "id", "method", "params"} object';

type Problem = {
  id: string | number | null;
  code: number;
  message: string;
  /** The ErrorInfo's metadata: what was wrong (the member, the method). */
  metadata?: Record<string, string>;
};

/** `noText`: the body had no bytes (but white space), which the JSON parser leaves as {}. */
function envelopeProblem(body: unknown, noText: boolean): Problem | null {
  // {} itself is no empty body: what it lacks is named.
  if (isPlainObject(body) && Object.keys(body).length === 0 && !noText) {
    return {
      id: null,
      code: JSONRPC_ERROR.invalidRequest,
      message: `Invalid Request: the object has no "jsonrpc" and no "method" (both required); ${SEND_ONE}`,
      metadata: { field: "jsonrpc" },
    };
  }
  if (!isPlainObject(body) || Object.keys(body).length === 0) {
    const what = Array.isArray(body)
      ? "an array (batches are not supported)"
      : isPlainObject(body)
        ? "empty"
        : `${JSON.stringify(body) ?? "missing"}, not an object`;
    return {
      id: null,
      code: JSONRPC_ERROR.invalidRequest,
      message: `Invalid Request: the body is ${what}; ${SEND_ONE}`,
      metadata: { field: "body" },
    };
  }
  const parsed = envelope.safeParse(body);
  const id = requestId.safeParse(body.id).success ? (body.id as string | number | null) : null;
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const field = issue.path.map(String).join(".") || "the request";
    return {
      id,
      code: JSONRPC_ERROR.invalidRequest,
      message: `Invalid Request: ${field}: ${issue.message} (a JSON-RPC 2.0 request has "jsonrpc": "2.0", a method name and a string or integer id)`,
      metadata: { field: issue.path.map(String).join(".") || "body" },
    };
  }
  const { method, params } = parsed.data;
  if (!A2A_METHODS.has(method)) {
    return {
      id,
      code: JSONRPC_ERROR.methodNotFound,
      message: `Method not found: ${JSON.stringify(method)}`,
      metadata: { method },
    };
  }
  if (params !== undefined && !isPlainObject(params)) {
    return { id, code: JSONRPC_ERROR.invalidParams, message: "Invalid params: params must be an object" };
  }
  if (TASK_ID_METHODS.has(method) && (typeof params?.id !== "string" || params.id === "")) {
    return {
      id,
      code: JSONRPC_ERROR.invalidParams,
      message: `Invalid params: params.id must be a task id (a non-empty string), got ${shownValue(params?.id ?? null)}`,
    };
  }
  const badId = idProblem(method, params);
  if (badId !== null) {
    const [field, why] = badId;
    return {
      id,
      code: JSONRPC_ERROR.invalidParams,
      message: `Invalid params: ${field} ${why}`,
      metadata: { field },
    };
  }
  if (MESSAGE_METHODS.has(method) && (params === undefined || params.message === undefined)) {
    // The SDK said "message.messageId is required" of a message that is not there at all.
    return { id, code: JSONRPC_ERROR.invalidParams, message: "Invalid params: params.message is required" };
  }
  const role = MESSAGE_METHODS.has(method) ? messageRoleProblem(params?.message) : null;
  if (role !== null) {
    const metadata = { field: "params.message.role" };
    return { id, code: JSONRPC_ERROR.invalidParams, message: role, metadata };
  }
  const history = historyLengthProblem(method, params);
  if (history !== null) return { id, code: JSONRPC_ERROR.invalidParams, message: history };
  const status = method === "ListTasks" ? listStatusProblem(params) : null;
  if (status !== null) return { id, code: JSONRPC_ERROR.invalidParams, message: status };
  // The SDK's conversions leave a "__proto__" member out without a word: refused, named.
  const proto = params === undefined ? null : protoMemberPath(params);
  if (proto !== null) {
    return {
      id,
      code: JSONRPC_ERROR.invalidParams,
      message: `Invalid params: params.${proto}: a member named "__proto__" is not taken (it would be lost on the way)`,
    };
  }
  return null;
}

/**
 * Why the request's `historyLength` is not a count of messages, or null when it is one or unset
 * (absent or null). The SDK read a negative one as 0 and anything else that is not a number
 * (a word, 1.5, true) as no limit, without a word; A2A has it an int32, zero or more. A string of
 * digits is taken, as the protobuf JSON mapping writes an integer that way too.
 */
function historyLengthProblem(method: string, params: Record<string, unknown> | undefined): string | null {
  const at = HISTORY_LENGTH_AT[method];
  if (at === undefined || params === undefined) return null;
  const holder = at === "params" ? params : params.configuration;
  if (!isPlainObject(holder)) return null;
  const value = holder.historyLength;
  if (value === undefined || value === null) return null;
  const n = typeof value === "string" && /^\d{1,10}$/.test(value) ? Number(value) : value;
  if (typeof n === "number" && Number.isInteger(n) && n >= 0 && n <= INT32_MAX) return null;
  const field = at === "params" ? "params.historyLength" : "params.configuration.historyLength";
  return `Invalid params: ${field} must be an integer from 0 to ${INT32_MAX} (the most recent messages to include; leave it out for all), got ${typeof value === "number" ? String(value) : JSON.stringify(value)}`;
}

function answerError(
  res: Response,
  id: string | number | null,
  code: number,
  message: string,
  metadata?: Record<string, string>,
): void {
  // JSON-RPC errors travel in a 200: the HTTP exchange itself went well.
  noteRpcError(res, code);
  // Each carries an ErrorInfo, as the SDK's own -32602 errors do (reason INVALID_PARAMS).
  res.status(200).json({ jsonrpc: "2.0", id, error: { code, message, data: errorInfo(code, metadata) } });
}
