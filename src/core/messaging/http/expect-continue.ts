import type { IncomingMessage, Server, ServerResponse } from "node:http";

/** Requests whose client waits for `100 Continue` before it sends the body, until it is sent. */
const held = new WeakMap<IncomingMessage, ServerResponse>();

/**
 * `Expect: 100-continue` is answered by the route, not by node: node sent `100 Continue` for
 * every such request before any route saw it, so a body declared over the limit was invited
 * (and read, or reset) instead of being refused at once with its 413. Here the request goes to
 * the routes as any other; `100 Continue` goes out when one starts reading the body
 * (inviteBody), and a refusal answered before that closes the connection, the body never sent.
 */
export function continueOnRead(server: Server): void {
  server.on("checkContinue", (req: IncomingMessage, res: ServerResponse) => {
    held.set(req, res);
    server.emit("request", req, res);
  });
  // Any other expectation is one no route meets: 417 as every refusal is (node's had no body, no code).
  server.on("checkExpectation", (req: IncomingMessage, res: ServerResponse) => {
    const expect = String(req.headers.expect).slice(0, 100);
    const body = JSON.stringify({
      error: {
        code: "ERR_EXPECTATION_FAILED",
        message: `Expect: ${expect} is not supported; only 100-continue is`,
      },
    });
    res.writeHead(417, {
      "content-type": "application/json; charset=utf-8",
      "content-length": Buffer.byteLength(body),
      "x-content-type-options": "nosniff",
      connection: "close",
    });
    res.end(body);
  });
}

/** True while the client holds its body back for a `100 Continue`: there is nothing to read or throw away. */
export function bodyHeldBack(req: IncomingMessage): boolean {
  return held.has(req);
}

/** Before a body is read: sends the `100 Continue` its client waits for, if it waits. */
export function inviteBody(req: IncomingMessage): void {
  const res = held.get(req);
  if (res === undefined) return;
  held.delete(req);
  if (!res.headersSent && !res.destroyed) res.writeContinue();
}
