import type { IncomingMessage } from "node:http";
import { inviteBody } from "./expect-continue.js";

export type BodyRead =
  | { kind: "body"; text: string }
  | { kind: "too_large"; bytes: number }
  | { kind: "aborted" };

/**
 * Reads a request body of at most `limit` bytes. A declared Content-Length over the limit is
 * refused before a byte is read; a body that grows past it (chunked, or lying about its length)
 * is refused as soon as it does, and nothing beyond the limit is ever buffered.
 */
export function readBody(req: IncomingMessage, limit: number): Promise<BodyRead> {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > limit) {
    return Promise.resolve({ kind: "too_large", bytes: declared });
  }
  inviteBody(req);
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (result: BodyRead) => {
      if (done) return;
      done = true;
      req.off("data", onData);
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        finish({ kind: "too_large", bytes: size });
        return;
      }
      chunks.push(chunk);
    };
    req.on("data", onData);
    req.on("end", () => finish({ kind: "body", text: Buffer.concat(chunks, size).toString("utf8") }));
    req.on("error", () => finish({ kind: "aborted" }));
    req.on("close", () => finish({ kind: "aborted" }));
  });
}
