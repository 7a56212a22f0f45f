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
