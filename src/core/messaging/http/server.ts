import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { TriadError } from "../../errors.js";
import { withoutBom } from "../../json-bom.js";
import { MAX_BATCH_MESSAGES } from "../config.js";
import type { RejectionReason } from "../rejections.js";
import { MessageType } from "../types.js";
import { readBody } from "./body.js";
import { answerClientErrors } from "./client-errors.js";
import { bodyHeldBack, continueOnRead } from "./expect-continue.js";
import type { FailureBudget } from "./failure-budget.js";
import { foreignCharset } from "./json-charset.js";
import { BUSY_DETAIL, type ItemResult, receipt, statusFor, throttledDetail } from "./receipts.js";
import { originForm } from "./request-target.js";
import { acceptStream, isStreamUpgrade, serveDeclinedUpgrade } from "./stream-server.js";

export type A2AServerOptions = {
  agentId: string;
  host: string;
  port: number;
  maxBodyBytes: number;
  now: () => number;
  /** Admits the messages of one body in order and starts their handlers; "busy" refuses them all. */
  accept: (values: unknown[], remoteAddress: string) => ItemResult[] | "busy";
  /** A body refused as a whole (too large, not JSON, not a message or an array of them, throttled). */
  refuse: (reason: RejectionReason, detail: string, remoteAddress: string) => void;
  /** Failed messages each peer may send; a peer that spent its budget is refused (429) unread. */
  budget?: FailureBudget | undefined;
  /** Every POST /a2a answered. */
  served: () => void;
  /** Serves every other path on the same port (an agent's own HTTP API); without it they are 404. */
  fallback?: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;
  /** The payload codec the agent reads, announced on every message stream's 101 (payload-codec.ts). */
  payloadCodec?: string | undefined;
};

export type A2AServer = { host: string; port: number; url: string; close(): Promise<void> };

/**
 * POST /a2a: one message (a JSON object) or a batch (an array). 202 with an ACK receipt when at
 * least one message was accepted (the receipt lists any refused ones by index), else 4xx with an
 * ERROR receipt; 503 when too busy, which the sender retries. Handlers are started before the
 * reply is written, so their synchronous part has run by the time the sender sees its 202.
 * GET /a2a with `Upgrade: triad-a2a-stream` opens a message stream instead (stream-server.ts).
 */
export async function startA2AServer(options: A2AServerOptions): Promise<A2AServer> {
  // A missing Host is answered by originForm, with a code, not by node with a bare 400.
  const server = createServer({ requireHostHeader: false }, (req, res) => serveOrFail(options, req, res));
  // Message streams (see stream-server.ts) leave the HTTP server's hands once upgraded: kept
  // here so that close() ends them too.
  const streams = new Set<Socket>();
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    if (isStreamUpgrade(req)) return acceptStream(options, req, socket, head, streams);
    // Any other Upgrade (curl --http2 asks for h2c on every request) is declined by answering
    // the request itself over HTTP/1.1 (RFC 9110 7.8), as if it had not asked: node handed
    // every one to this listener, which answered a bare 404 even to GET /tasks.
    serveDeclinedUpgrade(req, socket, (res) => serveOrFail(options, req, res));
  });
  // Idle keep-alive connections live longer than the client's idle sockets, so the client is
  // the one that closes them and never writes into a socket the server just dropped.
  answerClientErrors(server);
  continueOnRead(server);
  server.keepAliveTimeout = 30_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", (err: NodeJS.ErrnoException) =>
      reject(
        new TriadError("ERR_A2A_LISTEN", `cannot listen on ${options.host}:${options.port}: ${err.message}`, {
          code: err.code,
        }),
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host;
  const urlHost = host.includes(":") ? `[${host}]` : host;
  return { host, port, url: `http://${urlHost}:${port}`, close: () => closeServer(server, streams) };
}

function serveOrFail(options: A2AServerOptions, req: IncomingMessage, res: ServerResponse): void {
  serve(options, req, res).catch(() => {
    // Nothing in serve() should throw; if something does, this request fails, not the process.
    if (!res.headersSent) res.writeHead(500).end();
    else res.destroy();
  });
}

/** Of a refused oversized body, up to this many times the limit is read and thrown away (see discardRest). */
const DISCARD_FACTOR = 16;

/**
 * Reads the rest of a refused oversized body and throws it away (nothing is kept), up to `cap`
 * bytes: true once it has all been read. The 413 goes out after that, because a connection
 * closed with unread bytes in it is reset, and the reset can destroy the 413 on its way before
 * the sender reads it. False at once for a body declared or grown past `cap` (not worth
 * reading: that sender may miss the 413) and for a sender that went away.
 */
function discardRest(req: IncomingMessage, cap: number): Promise<boolean> {
  const declared = Number(req.headers["content-length"]);
  // A body held back for a 100 Continue never comes: the connection closes after the answer.
  if (req.complete || bodyHeldBack(req)) return Promise.resolve(true);
  if (Number.isFinite(declared) && declared > cap) return Promise.resolve(false);
  return new Promise((resolve) => {
    let seen = 0;
    const done = (drained: boolean) => {
      req.off("data", onData);
      resolve(drained);
    };
    const onData = (chunk: Buffer) => {
      seen += chunk.length;
      if (seen > cap) done(false);
    };
    req.on("data", onData);
    req.once("end", () => done(true));
    req.once("close", () => done(false));
    req.once("error", () => done(false));
    req.resume();
  });
}

/**
 * Before a refusal answered without reading the body (no route, wrong method, wrong type): the
 * body is read and thrown away first, as for a 413 (see discardRest), or the close after the
 * refusal could reset the connection and lose it. Not for a throttled peer (see throttled).
 */
async function discardUnread(req: IncomingMessage, options: A2AServerOptions): Promise<void> {
  await discardRest(req, options.maxBodyBytes * DISCARD_FACTOR);
}

async function serve(options: A2AServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const remote = req.socket.remoteAddress ?? "unknown";
  // No route reads the body of a GET or HEAD (the fallback's neither): thrown away before any answer.
  if (req.method === "GET" || req.method === "HEAD") await discardUnread(req, options);
  const targetProblem = originForm(req);
  if (targetProblem !== null) {
    await discardUnread(req, options);
    return send(res, 400, { error: { code: "ERR_BAD_REQUEST", message: targetProblem } });
  }
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/a2a") {
    // A target no URL parser takes (`//[/`, `http://a:99999/`) reaches no route, the fallback's neither.
    if (!URL.canParse(req.url ?? "/", "http://localhost")) {
      const error = { code: "ERR_BAD_REQUEST", message: "the request target is not a valid URL path" };
      await discardUnread(req, options);
      return send(res, 400, { error });
    }
    if (options.fallback) return options.fallback(req, res);
    await discardUnread(req, options);
    return reply(res, options, statusFor("not_found"), "not_found", `no route ${path}`);
  }
  // Who listens here: lets a peer given only a URL learn the agent id to address.
  if (req.method === "GET") return send(res, 200, { agent_id: options.agentId, protocol: "triad-a2a" });
  if (req.method !== "POST") {
    res.setHeader("Allow", "GET, POST");
    await discardUnread(req, options);
    return reply(
      res,
      options,
      statusFor("method"),
      "method",
      "POST /a2a to send, GET /a2a to learn who listens",
    );
  }
  options.served();
  const wait = options.budget?.retryAfter(remote) ?? 0;
  if (wait > 0) return throttled(options, req, res, remote, wait);
  const type = req.headers["content-type"];
  if (type !== undefined && (!/^application\/json\b/i.test(type) || foreignCharset(type) !== null)) {
    options.refuse("malformed", `content-type ${type}`, remote);
    await discardUnread(req, options);
    const detail = "content-type must be application/json, in UTF-8";
    return reply(res, options, statusFor("media_type"), "malformed", detail);
  }
  const body = await readBody(req, options.maxBodyBytes);
  if (body.kind === "aborted") return;
  if (body.kind === "too_large") {
    const detail = `body of ${body.bytes} bytes or more is over the limit of ${options.maxBodyBytes}`;
    options.refuse("too_large", detail, remote);
    // The connection closes after the 413; drained first, it closes cleanly (see discardRest).
    await discardRest(req, options.maxBodyBytes * DISCARD_FACTOR);
    res.setHeader("Connection", "close");
    return reply(res, options, statusFor("too_large"), "too_large", detail);
  }
  let parsed: unknown;
  try {
    // One leading byte order mark is not part of the JSON (RFC 8259 8.1), nor of what a signature
    // covers (the message's canonical JSON): read past it, as the REST API does.
    parsed = JSON.parse(withoutBom(body.text));
  } catch {
    options.refuse("malformed", "body is not JSON", remote);
    return reply(res, options, 400, "malformed", "body is not JSON");
  }
  const values = Array.isArray(parsed) ? parsed : [parsed];
  if (values.length === 0 || values.length > MAX_BATCH_MESSAGES) {
    const detail = `a batch holds 1 to ${MAX_BATCH_MESSAGES} messages (got ${values.length})`;
    options.refuse("malformed", detail, remote);
    return reply(res, options, 400, "malformed", detail);
  }
  const results = options.accept(values, remote);
  if (results === "busy") {
    res.setHeader("Retry-After", "1");
    return reply(res, options, statusFor("busy"), "busy", BUSY_DETAIL);
  }
  const firstRefusal = results.find((r) => r.outcome === "rejected");
  if (firstRefusal === undefined || results.some((r) => r.outcome !== "rejected")) {
    return send(res, 202, receipt(MessageType.ACK, options.agentId, results, options.now()));
  }
  const error = { reason: firstRefusal.reason, detail: firstRefusal.detail };
  send(
    res,
    statusFor(firstRefusal.reason),
    receipt(MessageType.ERROR, options.agentId, results, options.now(), error),
  );
}

/**
 * Of a throttled peer's body, at most this much is read (and dropped) so that its 429 arrives
 * intact; a bigger one is not read at all: the connection closes under it, which a sender takes
 * as a network error and retries later, as it would the 429.
 */
const THROTTLED_DRAIN_BYTES = 64 * 1024;

/** A peer that spent its budget of failed messages: its body is never parsed or hashed. */
async function throttled(
  options: A2AServerOptions,
  req: IncomingMessage,
  res: ServerResponse,
  remote: string,
  retryAfterS: number,
): Promise<void> {
  const detail = throttledDetail(remote, retryAfterS);
  options.refuse("throttled", detail, remote);
  await discardRest(req, THROTTLED_DRAIN_BYTES);
  res.setHeader("Retry-After", String(retryAfterS));
  res.setHeader("Connection", "close");
  return reply(res, options, statusFor("throttled"), "throttled", detail);
}

function reply(
  res: ServerResponse,
  options: A2AServerOptions,
  status: number,
  reason: string,
  detail: string,
): void {
  send(res, status, receipt(MessageType.ERROR, options.agentId, [], options.now(), { reason, detail }));
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "X-Content-Type-Options": "nosniff",
  });
  res.end(text);
}

function closeServer(server: Server, streams: Set<Socket>): Promise<void> {
  for (const socket of streams) socket.destroy();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
