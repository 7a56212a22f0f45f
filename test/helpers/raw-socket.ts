import { connect } from "node:net";

export type Answer = { status: number; headers: Record<string, string>; body: string; json: unknown };

/**
 * One HTTP/1.1 request written by hand on a socket to 127.0.0.1:`port`, as node's client would
 * never send it (any target, any Host); status 0 when no answer came within 5 s.
 */
export function raw(
  port: number,
  method: string,
  target: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<Answer> {
  return new Promise((resolve) => {
    const all: Record<string, string> = { host: `127.0.0.1:${port}`, connection: "close", ...headers };
    if (body !== undefined) all["content-length"] = String(Buffer.byteLength(body));
    const head = Object.entries(all)
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join("");
    const socket = connect(port, "127.0.0.1", () => {
      socket.end(`${method} ${target} HTTP/1.1\r\n${head}\r\n${body ?? ""}`);
    });
    let text = "";
    socket.setTimeout(5000, () => socket.destroy());
    socket.on("data", (d: Buffer) => {
      text += d.toString();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      const end = text.indexOf("\r\n\r\n");
      const lines = text.slice(0, Math.max(end, 0)).split("\r\n");
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? "")?.[1] ?? 0);
      const fields: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(":");
        fields[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let rest = end < 0 ? "" : text.slice(end + 4);
      if (fields["transfer-encoding"] === "chunked") rest = unchunk(rest);
      let json: unknown = null;
      try {
        json = JSON.parse(rest);
      } catch {}
      resolve({ status, headers: fields, body: rest, json });
    });
  });
}

function unchunk(text: string): string {
  let out = "";
  for (let at = 0; ; ) {
    const eol = text.indexOf("\r\n", at);
    const size = Number.parseInt(text.slice(at, eol), 16);
    if (!(size > 0)) return out;
    out += text.slice(eol + 2, eol + 2 + size);
    at = eol + 2 + size + 2;
  }
}
