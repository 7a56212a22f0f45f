import { connect } from "node:net";

export type RawAnswer = {
  /** 0 when the server closed the connection without an answer. */
  status: number;
  headers: Record<string, string>;
  body: string;
};

/**
 * One HTTP/1.1 request written by hand on a socket: any request target, any method, any header
 * and body bytes, as node's own client would never send them. Resolves with the first answer (or
 * status 0 when the server hung up or stayed silent for `timeoutMs`); never rejects.
 */
export function rawRequest(
  port: number,
  request: { method: string; target: string; headers?: Record<string, string>; body?: string | Buffer },
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  return new Promise((resolve) => {
    const body = request.body === undefined ? undefined : Buffer.from(request.body);
    const headers: Record<string, string> = {
      host: `127.0.0.1:${port}`,
      connection: "close",
      ...request.headers,
    };
    if (body !== undefined) headers["content-length"] = String(body.length);
    const head =
      `${request.method} ${request.target} HTTP/1.1\r\n` +
      Object.entries(headers)
        .map(([k, v]) => `${k}: ${v}\r\n`)
        .join("") +
      "\r\n";
    const chunks: Buffer[] = [];
    let settled = false;
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(Buffer.from(head, "latin1"));
      if (body !== undefined) socket.write(body);
    });
    const finish = () => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(parseAnswer(Buffer.concat(chunks)));
    };
    socket.setTimeout(timeoutMs, finish);
    socket.on("data", (d: Buffer) => {
      chunks.push(d);
      const answer = parseAnswer(Buffer.concat(chunks));
      if (answer.complete) finish();
    });
    socket.on("error", finish);
    socket.on("close", finish);
  });
}

function parseAnswer(raw: Buffer): RawAnswer & { complete: boolean } {
  const text = raw.toString("utf8");
  const end = text.indexOf("\r\n\r\n");
  if (end < 0) return { status: 0, headers: {}, body: "", complete: false };
  const [statusLine = "", ...lines] = text.slice(0, end).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0);
  const body = text.slice(end + 4);
  const length = Number(headers["content-length"]);
  const complete = Number.isFinite(length)
    ? Buffer.byteLength(body) >= length
    : headers["transfer-encoding"] === undefined
      ? false
      : body.endsWith("0\r\n\r\n");
  return { status, headers, body, complete };
}
