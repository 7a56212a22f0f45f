import { isUtf8 } from "node:buffer";
import type { IncomingMessage, ServerResponse } from "node:http";
import { isTriadError, TriadError } from "../core/errors.js";
import { jsonDepth, protoMemberPath } from "../core/json.js";
import { withoutBom } from "../core/json-bom.js";
import { duplicateKeyMessage, duplicateKeyPath } from "../core/json-duplicate-key.js";
import { bodyHeldBack, inviteBody } from "../core/messaging/http/expect-continue.js";
import { foreignCharset } from "../core/messaging/http/json-charset.js";
import { MAX_JSON_DEPTH } from "../core/messaging/plain-json.js";
import { idLengthProblem } from "../core/state/task-id.js";

/** Most bytes of a request's unread body thrown away before its answer goes out (see sendJson). */
const MAX_UNREAD_DISCARD = 16 * 1024 * 1024;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  // Answered before its body was read (401, 403, 404, 405...): the body is read and thrown away
  // first, or the close after the answer can reset the connection and lose it (see discardBody).
  const req = res.req as IncomingMessage | undefined;
  if (req !== undefined && !req.complete && !req.destroyed) {
    void bodyDiscarded(req).then(() => {
      if (!res.headersSent && !res.destroyed) writeJson(res, status, body, headers);
    });
    return;
  }
  writeJson(res, status, body, headers);
}

/**
 * Resolves once the request's body has been read and thrown away (up to 16 MiB): a refusal
 * written before that can be lost to the reset of a connection closed with the body unread.
 */
export function bodyDiscarded(req: IncomingMessage): Promise<void> {
  return discardBody(req, MAX_UNREAD_DISCARD);
}

function writeJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string>,
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

/**
 * Starts a Server-Sent Events answer: no caching or transforming proxy, no buffering (nginx),
 * each event written at once, and the client's reconnection delay.
 */
export function startEventStream(res: ServerResponse, retryMs: number): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-cache, no-transform",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.socket?.setNoDelay(true);
  res.write(`retry: ${retryMs}\n\n`);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/** Of a refused body, up to this many times the limit is read and thrown away (see discardBody). */
const DISCARD_FACTOR = 16;

/**
 * Reads the rest of a refused request's body and throws it away, up to `cap` bytes, before the
 * refusal is answered: a connection closed with unread bytes in it is reset, and the reset can
 * destroy the 413/415 before the client reads it (as in the A2A server's discardRest). A body
 * declared larger than `cap` is not worth reading; its sender may see a reset instead.
 */
function discardBody(req: IncomingMessage, cap: number): Promise<void> {
  const declared = Number(req.headers["content-length"]);
  // A body held back for a 100 Continue never comes: the connection closes after the answer.
  if (bodyHeldBack(req)) return Promise.resolve();
  if (req.complete || req.destroyed || (Number.isFinite(declared) && declared > cap)) {
    req.resume();
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    let seen = 0;
    const done = () => {
      req.off("data", onData);
      resolve();
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > cap) done();
    };
    req.on("data", onData);
    req.once("end", done);
    req.once("close", done);
    req.once("error", done);
    req.resume();
  });
}

/** The largest request body the coordinator's HTTP surface takes unless told otherwise: 1 MiB. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;

/**
 * Reads a JSON body, refusing any type but application/json (415: a web page can send
 * text/plain across sites without asking, never JSON), a charset other than UTF-8 (415: it
 * would be read as UTF-8 all the same), a compressed body (415: it is read as
 * is), more than `limit` bytes before buffering them (413), and bytes that are not UTF-8 or
 * do not parse (400: a byte that is not UTF-8 became U+FFFD in a task's type or payload), and
 * an object that names a member twice (400: see duplicateKeyPath).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers["content-type"];
  if (type === undefined || !JSON_TYPE.test(type)) {
    await discardBody(req, limit * DISCARD_FACTOR);
    throw new TriadError(
      "ERR_UNSUPPORTED_MEDIA_TYPE",
      `the body must be sent as Content-Type: application/json (got ${type ?? "none"})`,
      { status: 415 },
    );
  }
  const charset = foreignCharset(type);
  if (charset !== null) {
    await discardBody(req, limit * DISCARD_FACTOR);
    throw new TriadError(
      "ERR_UNSUPPORTED_MEDIA_TYPE",
      `the body must be UTF-8 JSON, sent as Content-Type: application/json (got charset ${JSON.stringify(charset)})`,
      { status: 415 },
    );
  }
  const coding = req.headers["content-encoding"];
  if (coding !== undefined && coding.trim().toLowerCase() !== "identity" && coding.trim() !== "") {
    await discardBody(req, limit * DISCARD_FACTOR);
    throw new TriadError(
      "ERR_UNSUPPORTED_MEDIA_TYPE",
      `the body must be sent uncompressed (got Content-Encoding: ${coding})`,
      { status: 415 },
    );
  }
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    await discardBody(req, limit * DISCARD_FACTOR);
    throw new TriadError("ERR_BODY_TOO_LARGE", `the body is ${declared} bytes; the limit is ${limit}`, {
      status: 413,
    });
  }
  inviteBody(req);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > limit) {
        req.resume();
        throw new TriadError("ERR_BODY_TOO_LARGE", `the body is over the limit of ${limit} bytes`, {
          status: 413,
        });
      }
      chunks.push(chunk as Buffer);
    }
  } catch (err) {
    // The client closed the connection mid-body ("aborted"): its doing, not a failure of the
    // server, which logged it as an error and counted it a 500.
    if (isTriadError(err) || !req.destroyed) throw err;
    throw new TriadError(
      "ERR_REQUEST_ABORTED",
      "the client closed the connection before the whole body came",
      {
        status: 400,
      },
    );
  }
  const bytes = Buffer.concat(chunks);
  if (!isUtf8(bytes)) {
    throw new TriadError("ERR_MALFORMED_JSON", "the body is not valid JSON: its bytes are not UTF-8", {
      status: 400,
    });
  }
  const text = withoutBom(bytes.toString("utf8"));
  let body: unknown;
  try {
    body = JSON.parse(text) as unknown;
  } catch (err) {
    throw new TriadError("ERR_MALFORMED_JSON", `the body is not valid JSON: ${(err as Error).message}`, {
      status: 400,
    });
  }
  // JSON.parse copes with any depth; the schemas after it recurse, and 10,000 levels overflow them.
  if (jsonDepth(body, MAX_JSON_DEPTH) > MAX_JSON_DEPTH) {
    throw new TriadError("ERR_JSON_TOO_DEEP", `the body is nested more than ${MAX_JSON_DEPTH} levels deep`, {
      status: 422,
    });
  }
  const duplicate = duplicateKeyPath(text);
  if (duplicate !== null)
    throw new TriadError("ERR_DUPLICATE_KEY", duplicateKeyMessage(duplicate), { status: 400 });
  // The walk only when the text may name one (written plainly, or with \u escapes).
  if (text.includes("__proto__") || text.includes("\\u")) {
    const at = protoMemberPath(body);
    if (at !== null) {
      throw new TriadError(
        "ERR_RESERVED_KEY",
        `${at}: a member named "__proto__" is not taken (it would be lost on the way)`,
        { status: 422 },
      );
    }
  }
  return body;
}

const JSON_TYPE = /^application\/json\s*(;|$)/i;

/**
 * The request target as a URL; null for one `new URL` refuses (`//[/`, `http://a:99999/`). A
 * path that begins with "//" is a path (RFC 9112 origin-form), not a host: `//x/tasks` was read
 * as host x and path /tasks (and `//tasks` as the dashboard's /).
 */
export function requestUrl(target: string | undefined): URL | null {
  try {
    const url = new URL(target ?? "/", "http://localhost");
    return target?.startsWith("//") ? new URL(`http://localhost${target}`) : url;
  } catch {
    return null;
  }
}

/**
 * A query parameter that is a number of something, written as plain decimal digits (with a
 * fraction when `fraction`): undefined when absent, NaN for anything else — an empty value, a
 * sign, white space, hex, an exponent, "Infinity" (Number() read "" and " " as 0 and "0x10" as 16).
 */
export function decimalParam(raw: string | null, fraction = false): number | undefined {
  if (raw === null) return undefined;
  return (fraction ? /^\d{1,15}(\.\d{1,15})?$/ : /^\d{1,15}$/).test(raw) ? Number(raw) : Number.NaN;
}

/**
 * A client's id as an error message names it: in JSON quotes, whole when no longer than a task id
 * may be (MAX_TASK_ID_LENGTH), else its first 40 characters and its length (a 404 repeated an id
 * of thousands of characters whole).
 */
export function shownId(id: string): string {
  if (idLengthProblem(id.length) === null) return JSON.stringify(id);
  return `${JSON.stringify(id.slice(0, 40))}… (${id.length} characters)`;
}

/**
 * A task id from a path segment; a malformed percent-escape is the client's error (400), and so
 * is an id longer than any task's (MAX_TASK_ID_LENGTH): it is named by its length, before any
 * lookup, where its 404 repeated it whole.
 */
export function taskIdOf(segment: string): string {
  let taskId: string;
  try {
    taskId = decodeURIComponent(segment);
  } catch {
    throw new TriadError("ERR_INVALID_TASK_ID", "the task id in the path is not valid percent-encoding", {
      status: 400,
    });
  }
  const tooLong = idLengthProblem(taskId.length);
  if (tooLong !== null) {
    throw new TriadError("ERR_INVALID_TASK_ID", `the task id in the path ${tooLong}`, { status: 400 });
  }
  return taskId;
}

export function statusOf(err: unknown, fallback = 500): number {
  const details = (err as TriadError).details;
  return typeof details?.status === "number" ? details.status : fallback;
}
