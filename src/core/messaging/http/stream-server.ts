import { type IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { MAX_BATCH_MESSAGES } from "../config.js";
import { ReceivedLine } from "../signed-line.js";
import { LineReader } from "./lines.js";
import { BUSY_DETAIL, type ItemResult, type RejectedItem, statusFor, throttledDetail } from "./receipts.js";
import { originForm } from "./request-target.js";
import type { A2AServerOptions } from "./server.js";
import { STREAM_PROTOCOL, type StreamReceipt } from "./stream-channel.js";

/** A stream that carried nothing for this long is closed (senders close theirs sooner). */
const IDLE_MS = 60_000;

/**
 * Of a line over the body limit, up to this many times the limit is read and thrown away, so
 * that the stream goes on after it; a longer one closes the stream (as a POST's 413 drains its
 * body up to as much before it answers, server.ts).
 */
const SKIP_FACTOR = 16;

/**
 * GET /a2a with `Upgrade: triad-a2a-stream`: after the 101, every line the peer writes is one
 * message, admitted exactly as a POSTed batch is (shape, addressee, freshness, signature, replay,
 * the failure budget), and every chunk read is answered by receipt lines in the same order
 * (see StreamReceipt). One connection then carries any number of messages with no HTTP request
 * per batch. A line over the body limit is refused alone (a receipt of count 1, 413, as a POST of
 * it would be) and skipped up to its end: the lines around it are answered as ever and the stream
 * stays open (one over SKIP_FACTOR times the limit closes it); a peer that spent its failure
 * budget is refused (429) and the stream closed.
 */
/** GET /a2a with `Upgrade: triad-a2a-stream`: a message stream; any other Upgrade is declined. */
export function isStreamUpgrade(req: IncomingMessage): boolean {
  const path = (req.url ?? "/").split("?")[0];
  return (
    (path === "/a2a" || /^https?:\/\/[^/]*\/a2a$/i.test(path ?? "")) &&
    (req.headers.upgrade ?? "").toLowerCase() === STREAM_PROTOCOL
  );
}

/**
 * Answers an upgrade request it declines as an ordinary HTTP/1.1 request (`serve` gets a
 * response on its socket), then closes the connection: node no longer parses that socket.
 */
export function serveDeclinedUpgrade(
  req: IncomingMessage,
  socket: Socket,
  serve: (res: ServerResponse) => void,
): void {
  const length = Number(req.headers["content-length"] ?? "0");
  if (req.headers["transfer-encoding"] !== undefined || !(length === 0)) {
    // Its body is no longer parsed by node: refused, not read.
    const body = JSON.stringify({
      error: {
        code: "ERR_BAD_REQUEST",
        message: "an Upgrade this server declines cannot carry a body; send the request without Upgrade",
      },
    });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
    return;
  }
  const res = new ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  res.once("finish", () => {
    res.detachSocket(socket);
    socket.destroySoon();
  });
  serve(res);
}

export function acceptStream(
  options: A2AServerOptions,
  req: IncomingMessage,
  socket: Socket,
  head: Buffer,
  open: Set<Socket>,
): void {
  const remote = socket.remoteAddress ?? "unknown";
  // The target read as every other request's is (an absolute-form `http://host/a2a` is `/a2a`):
  // the raw target was compared, and an absolute-form stream got a bare 404.
  const problem = originForm(req);
  if (problem !== null) {
    const body = JSON.stringify({ error: { code: "ERR_BAD_REQUEST", message: problem } });
    socket.end(
      `HTTP/1.1 400 Bad Request\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
    );
    return;
  }
  const path = (req.url ?? "/").split("?")[0];
  if (path !== "/a2a" || (req.headers.upgrade ?? "").toLowerCase() !== STREAM_PROTOCOL) {
    answer(socket, 404, "Not Found", {});
    return;
  }
  options.served();
  const wait = options.budget?.retryAfter(remote) ?? 0;
  if (wait > 0) {
    options.refuse("throttled", throttledDetail(remote, wait), remote);
    answer(socket, 429, "Too Many Requests", { "Retry-After": String(wait) });
    return;
  }
  const codec = options.payloadCodec ? `Triad-Payload-Codec: ${options.payloadCodec}\r\n` : "";
  socket.write(
    `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${STREAM_PROTOCOL}\r\n${codec}\r\n`,
  );
  socket.setNoDelay(true);
  socket.setTimeout(IDLE_MS, () => socket.destroy());
  open.add(socket);
  socket.on("close", () => open.delete(socket));
  socket.on("error", () => socket.destroy());
  const lines = new LineReader();
  const read = (chunk: Buffer) => {
    const entries = lines.pushSkipping(chunk, options.maxBodyBytes, options.maxBodyBytes * SKIP_FACTOR);
    const receipts: StreamReceipt[] = [];
    if (entries.length > 0) {
      options.served();
      const throttle = options.budget?.retryAfter(remote) ?? 0;
      if (throttle > 0) {
        const detail = throttledDetail(remote, throttle);
        options.refuse("throttled", detail, remote);
        receipts.push(whole(entries.length, "throttled", detail));
        finish(socket, receipts);
        return;
      }
      // Runs of lines are admitted as batches; a line over the limit is answered alone, in its place.
      let run: string[] = [];
      const admitRun = () => {
        for (let i = 0; i < run.length; i += MAX_BATCH_MESSAGES) {
          receipts.push(admit(options, run.slice(i, i + MAX_BATCH_MESSAGES), remote));
        }
        run = [];
      };
      for (const entry of entries) {
        if (entry !== null) {
          run.push(entry);
          continue;
        }
        admitRun();
        const detail = `a message over the limit of ${options.maxBodyBytes} bytes`;
        options.refuse("too_large", detail, remote);
        receipts.push(whole(1, "too_large", detail));
      }
      admitRun();
    }
    if (lines.overflow) {
      // A line past SKIP_FACTOR times the limit (answered 413 above): its end may never come.
      finish(socket, receipts);
      return;
    }
    if (receipts.length === 0) return;
    // A peer that does not read its receipts is not read either, so they cannot pile up here.
    if (!socket.write(receipts.map(line).join("")) && !socket.isPaused()) {
      socket.pause();
      socket.once("drain", () => socket.resume());
    }
  };
  socket.on("data", read);
  if (head.length > 0) read(head);
}

function admit(options: A2AServerOptions, texts: string[], remote: string): StreamReceipt {
  // Admitted as text: a signed line is verified over the bytes read (MessageGate.admitLine).
  const results = options.accept(
    texts.map((text) => new ReceivedLine(text)),
    remote,
  );
  if (results === "busy") return whole(texts.length, "busy", BUSY_DETAIL);
  const rejected: RejectedItem[] = [];
  let first: Extract<ItemResult, { outcome: "rejected" }> | undefined;
  for (const r of results) {
    if (r.outcome !== "rejected") continue;
    first ??= r;
    rejected.push({ index: r.index, request_id: r.requestId, reason: r.reason, detail: r.detail });
  }
  const status = first !== undefined && rejected.length === results.length ? statusFor(first.reason) : 202;
  return { count: texts.length, status, rejected, error: null };
}

function whole(count: number, reason: "busy" | "throttled" | "too_large", detail: string): StreamReceipt {
  return { count, status: statusFor(reason), rejected: [], error: { reason, detail } };
}

function line(receipt: StreamReceipt): string {
  const { error, ...rest } = receipt;
  const body = error === null ? rest : { ...rest, error: error.reason, detail: error.detail };
  return `${JSON.stringify(body)}\n`;
}

/** The last receipts, then the stream ends (the sender sends what it has not had answered again). */
function finish(socket: Socket, receipts: StreamReceipt[]): void {
  socket.removeAllListeners("data");
  socket.end(receipts.map(line).join(""));
}

function answer(socket: Socket, status: number, text: string, headers: Record<string, string>): void {
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join("");
  socket.end(`HTTP/1.1 ${status} ${text}\r\n${extra}Content-Length: 0\r\nConnection: close\r\n\r\n`);
}
