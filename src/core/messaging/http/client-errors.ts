import type { Server } from "node:http";
import type { Socket } from "node:net";

/** What a request node's HTTP parser refused is answered: status, code, message. */
function answerOf(err: NodeJS.ErrnoException): [status: number, code: string, message: string] {
  if (err.code === "HPE_HEADER_OVERFLOW")
    return [431, "ERR_HEADERS_TOO_LARGE", "the request line and headers are over the size limit"];
  if (err.code === "ERR_HTTP_REQUEST_TIMEOUT")
    return [408, "ERR_REQUEST_TIMEOUT", "the request did not arrive in time"];
  return [400, "ERR_BAD_REQUEST", `the request is not valid HTTP/1.1 (${err.code ?? "unparsable"})`];
}

/**
 * Answers a request node's HTTP parser refuses (a method it does not know, headers over the
 * limit, a malformed line, a request too slow to arrive) as every other refusal is: a JSON
 * `{ error: { code, message } }` with its status. Node's own answer was the bare status with no
 * body (or, for headers over the limit, often only a reset).
 */
export function answerClientErrors(server: Server): void {
  server.on("clientError", (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === "ECONNRESET" || !socket.writable) return void socket.destroy();
    const [status, code, message] = answerOf(err);
    const body = JSON.stringify({ error: { code, message } });
    const reason =
      status === 431 ? "Request Header Fields Too Large" : status === 408 ? "Request Timeout" : "Bad Request";
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json; charset=utf-8\r\n` +
        `content-length: ${Buffer.byteLength(body)}\r\nx-content-type-options: nosniff\r\nconnection: close\r\n\r\n${body}`,
    );
  });
}
