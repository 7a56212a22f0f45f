import { maxHeaderSize, type Server } from "node:http";
import type { Socket } from "node:net";

/**
 * After a refusal node's parser caused, the rest of the request is still read (and dropped) for
 * at most this long before the connection is destroyed: closed with bytes unread, it was reset,
 * and the reset could destroy the answer before the client read it.
 */
const DRAIN_MS = 5000;

/** Sockets whose refusal is written: the parser's further errors on them (the same request, read on) are not answered again. */
const answered = new WeakSet<Socket>();

/** What a request node's HTTP parser refused is answered: status, code, message. */
function answerOf(
  err: NodeJS.ErrnoException & { rawPacket?: Buffer },
  limit: number,
): [status: number, code: string, message: string] {
  if (err.code === "HPE_HEADER_OVERFLOW" && inRequestLine(err.rawPacket, limit))
    return [
      414,
      "ERR_URI_TOO_LONG",
      "the request target (path and query) is over the size limit; send long input in a POST body",
    ];
  if (err.code === "HPE_HEADER_OVERFLOW")
    return [431, "ERR_HEADERS_TOO_LARGE", "the request line and headers are over the size limit"];
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return [408, "ERR_REQUEST_TIMEOUT", "the request did not arrive in time"];
  return [400, "ERR_BAD_REQUEST", `the request is not valid HTTP/1.1 (${err.code ?? "unparsable"})`];
}

/**
 * Whether the parser gave up while still reading the request line (the target), judged from
 * the bytes it gave up on: a packet that starts the request and whose first line ends past the
 * limit (or not at all), or a later packet with no line end in it.
 */
function inRequestLine(packet: Buffer | undefined, limit: number): boolean {
  if (packet === undefined) return false;
  const lineEnd = packet.indexOf("\n");
  if (/^[A-Z]+ /.test(packet.subarray(0, 32).toString("latin1"))) return lineEnd < 0 || lineEnd >= limit;
  return lineEnd < 0;
}

const REASONS: Record<number, string> = {
  408: "Request Timeout",
  414: "URI Too Long",
  431: "Request Header Fields Too Large",
};

/**
 * Answers a request node's HTTP parser refuses (a method it does not know, headers over the
 * limit, a target over the limit, a malformed line, a request too slow to arrive) as every other
 * refusal is: a JSON `{ error: { code, message } }` with its status. Node's own answer was the
 * bare status with no body (or, for headers over the limit, often only a reset).
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (answered.has(socket)) return; // the rest of the refused request, still being read
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    answered.add(socket);
    const [status, code, message] = answerOf(err, maxHeaderSize);
    const body = JSON.stringify({ error: { code, message } });
    socket.end(
      `HTTP/1.1 ${status} ${REASONS[status] ?? "Bad Request"}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
    const drained = setTimeout(() => socket.destroy(), DRAIN_MS);
    drained.unref();
    socket.once("close", () => clearTimeout(drained));
  });
}
