import type { IncomingMessage, ServerResponse } from "node:http";
import { TriadError } from "../core/errors.js";

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, status: number, code: string, message: string): void {
  sendJson(res, status, { error: { code, message } });
}

/**
 * Reads a JSON body, refusing more than `limit` bytes before buffering them (413) and
 * anything that does not parse (400).
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<unknown> {
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    throw new TriadError("ERR_BODY_TOO_LARGE", `the body is ${declared} bytes; the limit is ${limit}`, {
      status: 413,
    });
  }
  const chunks: Buffer[] = [];
  let size = 0;
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
  const text = Buffer.concat(chunks).toString("utf8");
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new TriadError("ERR_MALFORMED_JSON", `the body is not valid JSON: ${(err as Error).message}`, {
      status: 400,
    });
  }
}

export function statusOf(err: unknown, fallback = 500): number {
  const details = (err as TriadError).details;
  return typeof details?.status === "number" ? details.status : fallback;
}
