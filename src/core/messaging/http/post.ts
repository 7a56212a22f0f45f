import { type Agent as HttpAgent, request as httpRequest } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";

export type PostResult =
  | { kind: "response"; status: number; body: string }
  | { kind: "network"; error: Error };

/** Receipts are small; a reply bigger than this is cut short (it is read for its status first). */
export const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * One POST of a JSON body over a keep-alive agent. Never rejects: a failure to get any reply
 * (refused, reset, timed out) comes back as `network`, which the caller may retry.
 */
export function postJson(
  url: URL,
  body: string,
  agent: HttpAgent | HttpsAgent,
  timeoutMs: number,
): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: PostResult) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(
      url,
      {
        method: "POST",
        agent,
        headers: { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on("data", (chunk: Buffer) => {
          if (size < MAX_REPLY_BYTES) chunks.push(chunk);
          size += chunk.length;
        });
        res.on("end", () =>
          settle({
            kind: "response",
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString("utf8"),
          }),
        );
        // A reply cut off mid-body still carries its status line, which is what decides.
        res.on("error", () => settle({ kind: "response", status: res.statusCode ?? 0, body: "" }));
        res.on("aborted", () => settle({ kind: "response", status: res.statusCode ?? 0, body: "" }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no reply within ${timeoutMs} ms`)));
    req.on("error", (error) => settle({ kind: "network", error }));
    req.end(body);
  });
}
