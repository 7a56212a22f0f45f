import { request } from "node:http";
import { connect } from "node:net";

export type RawReply = { status: number; body: string; json: Record<string, unknown> | null };

/** A POST by hand, as a foreign or hostile peer would make it: no retries, no batching. */
export function rawPost(
  url: string,
  body: string | Buffer,
  headers: Record<string, string> = {},
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...headers }, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve(reply(res.statusCode ?? 0, Buffer.concat(chunks).toString())));
      },
    );
    // The server may answer (413) and hang up before the whole body is written; its reply still
    // counts. Without one, the error is the answer (never a hang).
    let answered = false;
    req.on("response", () => {
      answered = true;
    });
    req.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
      else req.on("close", () => answered || reject(err));
    });
    req.end(body);
  });
}

/** A chunked POST that never says its length: the limit must be enforced while reading. */
export function rawChunkedPost(
  host: string,
  port: number,
  path: string,
  chunk: string,
  chunks: number,
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, host, () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n`,
      );
      const size = Buffer.byteLength(chunk).toString(16);
      for (let i = 0; i < chunks && !socket.destroyed; i++) socket.write(`${size}\r\n${chunk}\r\n`);
      if (!socket.destroyed) socket.write("0\r\n\r\n");
    });
    let text = "";
    socket.on("data", (d: Buffer) => {
      text += d.toString();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      if (err.code !== "EPIPE" && err.code !== "ECONNRESET") reject(err);
    });
    socket.on("close", () => {
      const [head = "", body = ""] = text.split("\r\n\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0);
      resolve(reply(status, body));
    });
  });
}

function reply(status: number, body: string): RawReply {
  let json: Record<string, unknown> | null = null;
  try {
    json = JSON.parse(body) as Record<string, unknown>;
  } catch {
    json = null;
  }
  return { status, body, json };
}
