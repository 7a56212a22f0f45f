import { spawn } from "node:child_process";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { connect, type Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { isTooLarge } from "../../../src/agents/split-send.js";
import { isTriadError } from "../../../src/core/errors.js";
import { A2AClient } from "../../../src/core/messaging/client.js";
import type { A2AConfig } from "../../../src/core/messaging/config.js";
import { MessageType } from "../../../src/core/messaging/types.js";
import { freePort } from "../../helpers/free-port.js";
import { until } from "../../helpers/wait.js";
import { rawPost } from "./raw-http.js";

/**
 * Issue 23, point 2: a POST per batch costs both processes more than the messages do (node's
 * HTTP machinery on each side), so peers send over one upgraded connection each: GET /a2a with
 * `Upgrade: triad-a2a-stream`, then a message per line one way and receipt lines the other.
 * These tests speak the protocol by hand, as a foreign or hostile peer would.
 */

const clients: A2AClient[] = [];
const sockets: Socket[] = [];
function agent(agentId: string, extra: Partial<A2AConfig> = {}) {
  const client = new A2AClient({ agentId, tokenSecret: "secret", router: null, ...extra });
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A stream opened by hand: what the server answered to the upgrade, and the lines it writes after. */
type RawStream = {
  status: number;
  headers: string;
  lines: Record<string, unknown>[];
  ended: Promise<void>;
  write(text: string): void;
  /** Resolves when at least `n` receipt lines have come. */
  receipts(n: number): Promise<Record<string, unknown>[]>;
};

function openRaw(
  port: number,
  options: { localAddress?: string; upgrade?: string } = {},
): Promise<RawStream> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: "127.0.0.1", localAddress: options.localAddress });
    sockets.push(socket);
    let buffer = "";
    let head: { status: number; headers: string } | null = null;
    const lines: Record<string, unknown>[] = [];
    const waiters: { n: number; resolve: () => void }[] = [];
    let endedResolve: () => void = () => {};
    const ended = new Promise<void>((r) => {
      endedResolve = r;
    });
    const stream = (status: number, headers: string): RawStream => ({
      status,
      headers,
      lines,
      ended,
      write: (text) => socket.write(text),
      receipts: (n) =>
        new Promise((done) => {
          const check = () => done(lines.slice(0, n));
          if (lines.length >= n) check();
          else waiters.push({ n, resolve: check });
        }),
    });
    socket.on("connect", () =>
      socket.write(
        `GET /a2a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: ${options.upgrade ?? "triad-a2a-stream"}\r\n\r\n`,
      ),
    );
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      buffer += d;
      if (head === null) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end === -1) return;
        const text = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        head = { status: Number(text.split(" ")[1]), headers: text };
        resolve(stream(head.status, head.headers));
      }
      for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
        lines.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        buffer = buffer.slice(nl + 1);
      }
      for (const w of waiters.splice(0)) {
        if (lines.length >= w.n) w.resolve();
        else waiters.push(w);
      }
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      endedResolve();
      if (head === null) reject(new Error("closed before answering the upgrade"));
    });
  });
}

describe("message streams on /a2a", () => {
  it("admit every line as a POSTed message would be, answering in order with refusals by index", async () => {
    const a = agent("a");
    const b = agent("b");
    const { port } = await b.listen();
    const got: string[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push(m.metadata.request_id));
    const raw = await openRaw(port);
    expect(raw.status).toBe(101);
    expect(raw.headers).toMatch(/upgrade: triad-a2a-stream/i);
    const good = a.createMessage("b", { n: 1 }, MessageType.EVENT);
    const forged = { ...a.createMessage("b", {}, MessageType.EVENT), payload: { injected: true } };
    const elsewhere = a.createMessage("c", {}, MessageType.EVENT);
    raw.write(
      `${[JSON.stringify(good), "{not json", JSON.stringify(forged), JSON.stringify(elsewhere), JSON.stringify(good)].join("\n")}\n`,
    );
    const [receipt] = await raw.receipts(1);
    expect(receipt).toMatchObject({ count: 5, status: 202 });
    const refused = ((receipt?.rejected ?? []) as { index: number; reason: string }[]).map((r) => [
      r.index,
      r.reason,
    ]);
    expect(refused).toEqual([
      [1, "malformed"],
      [2, "bad_signature"],
      [3, "misdirected"],
    ]);
    await until("the good one is handled", () => got.length > 0, 5_000, 5);
    expect(got).toEqual([good.metadata.request_id]); // the repeat was a duplicate: handled once
    // Lines split across writes are put back together; a chunk of only refusals answers their status.
    const second = JSON.stringify(a.createMessage("b", { n: 2 }, MessageType.EVENT));
    raw.write(second.slice(0, 40));
    // Two writes apart in time, so the line arrives split: the scenario, so a fixed wait.
    await new Promise((r) => setTimeout(r, 20));
    raw.write(`${second.slice(40)}\n`);
    const [, whole] = await raw.receipts(2);
    expect(whole).toMatchObject({ count: 1, status: 202, rejected: [] });
    raw.write(`${JSON.stringify(forged)}\n`);
    const [, , onlyBad] = await raw.receipts(3);
    expect(onlyBad).toMatchObject({
      count: 1,
      status: 401,
      rejected: [{ index: 0, reason: "bad_signature" }],
    });
    expect(got).toHaveLength(2);
  });

  it("read a line past one leading UTF-8 byte order mark, as a POSTed body is read; two are malformed", async () => {
    const a = agent("a");
    const b = agent("b");
    const { port } = await b.listen();
    const got: string[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push(m.metadata.request_id));
    const raw = await openRaw(port);
    const good = a.createMessage("b", { n: 1 }, MessageType.EVENT);
    const twice = a.createMessage("b", { n: 2 }, MessageType.EVENT);
    raw.write(`\uFEFF${JSON.stringify(good)}\n\uFEFF\uFEFF${JSON.stringify(twice)}\n`);
    const [receipt] = await raw.receipts(1);
    expect(receipt).toMatchObject({ count: 2, status: 202, rejected: [{ index: 1, reason: "malformed" }] });
    await until("the good one is handled", () => got.length > 0, 5_000, 5);
    expect(got).toEqual([good.metadata.request_id]);
  });

  it("refuse a line over the body limit alone (413) and read on past it; one past 16 times the limit ends the stream", async () => {
    const a = agent("a");
    const b = agent("b", { maxBodyBytes: 4096 });
    const got: string[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push(String(m.payload.event_type)));
    const { port, url } = await b.listen();
    const raw = await openRaw(port);
    raw.write(`${JSON.stringify(a.createMessage("b", { event_type: "before" }, MessageType.EVENT))}\n`);
    raw.write("x".repeat(8192));
    raw.write("x".repeat(8192));
    raw.write(`\n${JSON.stringify(a.createMessage("b", { event_type: "after" }, MessageType.EVENT))}\n`);
    expect(await raw.receipts(3)).toMatchObject([
      { count: 1, status: 202 },
      { count: 1, status: 413, error: "too_large" },
      { count: 1, status: 202 },
    ]);
    expect(got).toEqual(["before", "after"]);
    expect(b.stats().rejected.too_large).toBe(1);
    // A line whose end may never come is not read for ever: past 16 times the limit the stream ends.
    raw.write("y".repeat(4096 * 16 + 1));
    await raw.ended;
    expect(raw.lines.slice(3)).toMatchObject([{ count: 1, status: 413, error: "too_large" }]);
    expect(b.stats().rejected.too_large).toBe(2);
    const reply = await rawPost(`${url}/a2a`, JSON.stringify(a.createMessage("b", {}, MessageType.EVENT)));
    expect(reply.status).toBe(202);
  });

  it("refuse a message over the receiver's limit alone: its stream-mates are delivered once, with no new stream", async () => {
    const b = agent("b", { maxBodyBytes: 4096 });
    const got: number[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push((m.payload.event_data as { n: number }).n));
    const { url } = await b.listen();
    const a = agent("a", { peers: { b: url } }); // a sends under its own, larger limit
    await a.sendEvent("b", "warm", { n: -1 }); // the stream is open before the burst
    const sends = Array.from({ length: 20 }, (_, n) =>
      a.sendEvent("b", "burst", n === 7 ? { n, pad: "x".repeat(8000) } : { n }),
    );
    const outcomes = await Promise.allSettled(sends);
    const refused = outcomes.flatMap((o, n) => (o.status === "rejected" ? [[n, o.reason]] : []));
    expect(refused.map(([n]) => n)).toEqual([7]);
    expect(isTooLarge(refused[0]?.[1])).toBe(true); // what the agents' too-large handling acts on
    expect(got.sort((x, y) => x - y)).toEqual([
      -1,
      ...Array.from({ length: 20 }, (_, n) => n).filter((n) => n !== 7),
    ]);
    expect(a.stats().http).toMatchObject({ streamsOpened: 1, retries: 0 });
    expect(b.stats().duplicates).toBe(0);
    expect(b.stats().rejected.too_large).toBe(1);
  });

  it("decline an unknown upgrade (the request is answered over HTTP/1.1, no 101), and answer a peer that spent its failure budget with 429", async () => {
    const a = agent("a");
    const b = agent("b", { failureBudget: { burst: 2, perSecond: 0.001 } });
    const { port } = await b.listen();
    // RFC 9110 7.8: an Upgrade the server does not speak is ignored; GET /a2a says who listens.
    expect((await openRaw(port, { upgrade: "websocket" })).status).toBe(200);
    const raw = await openRaw(port, { localAddress: "127.0.0.7" });
    const forged = JSON.stringify({
      ...a.createMessage("b", {}, MessageType.EVENT),
      signature: "0".repeat(64),
    });
    raw.write(`${[forged, forged, forged].join("\n")}\n`);
    const [first] = await raw.receipts(1);
    expect(((first?.rejected ?? []) as { reason: string }[]).map((r) => r.reason)).toEqual([
      "bad_signature",
      "bad_signature",
      "throttled",
    ]);
    raw.write(`${forged}\n`);
    await raw.ended; // refused unread, and the stream is closed
    expect(raw.lines[1]).toMatchObject({ count: 1, status: 429, error: "throttled" });
    expect((await openRaw(port, { localAddress: "127.0.0.7" })).status).toBe(429);
    // Another peer address is still served.
    expect((await openRaw(port, { localAddress: "127.0.0.8" })).status).toBe(101);
  });

  it("carry a flush bigger than the body limit in pieces, every message once", async () => {
    const b = agent("b", { maxBodyBytes: 2048 });
    const { url } = await b.listen();
    const a = agent("a", { maxBodyBytes: 2048, peers: { b: url } });
    const got: number[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push((m.payload.event_data as { n: number }).n));
    const pad = "x".repeat(600);
    await Promise.all(Array.from({ length: 30 }, (_, n) => a.sendEvent("b", "big", { n, pad })));
    expect(got.sort((x, y) => x - y)).toEqual(Array.from({ length: 30 }, (_, n) => n));
    expect(a.stats().http).toMatchObject({ streamsOpened: 1, streamWrites: 1, messagesStreamed: 30 });
    expect(b.stats().rejected.too_large).toBe(0);
  });

  it("do not keep a process alive once nothing is awaited on them", async () => {
    const b = agent("b", { tokenSecret: "ends-0123456789abcdef" });
    const got: string[] = [];
    b.registerHandler(MessageType.EVENT, (m) => got.push(String(m.payload.event_type)));
    const { url } = await b.listen();
    const script = fileURLToPath(new URL("./fixtures/send-and-end.ts", import.meta.url));
    const child = spawn(process.execPath, ["--import", "tsx", script], {
      env: { ...process.env, TRIAD_SECRET: "ends-0123456789abcdef", PEER_ID: "b", PEER_URL: url },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
    });
    // Its stream stays open (idle for up to 120 s) when the program ends: the process must exit anyway.
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill("SIGKILL");
        resolve(-1);
      }, 20_000);
      child.once("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect(JSON.parse(out)).toEqual({ sent: 1 });
    expect(got).toEqual(["hello"]);
  }, 30_000);

  it("end a stream whose peer writes a receipt longer than a POST's reply may be, and give up in time", async () => {
    // A hostile peer: takes the upgrade, then writes one endless line.
    const hostile = createServer();
    hostile.on("upgrade", (_req, socket: Socket) => {
      socket.on("error", () => {});
      socket.write(
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: triad-a2a-stream\r\n\r\n",
      );
      const junk = "x".repeat(256 * 1024);
      for (let i = 0; i < 8 && !socket.destroyed; i++) socket.write(junk);
    });
    await new Promise<void>((r) => hostile.listen(0, "127.0.0.1", r));
    try {
      const { port } = hostile.address() as AddressInfo;
      const a = agent("a", {
        peers: { b: `http://127.0.0.1:${port}` },
        sendTimeoutMs: 1500,
        requestTimeoutMs: 20_000,
      });
      const err = await a.sendEvent("b", "x", {}).catch((e: unknown) => e);
      expect(isTriadError(err, "ERR_A2A_UNREACHABLE")).toBe(true);
      expect((err as { details: { lastError: string } }).details.lastError).toMatch(
        /receipt longer than 1048576 bytes/,
      );
    } finally {
      hostile.closeAllConnections();
      await new Promise((r) => hostile.close(r));
    }
  });

  it("are used by default, and a peer that does not take them is sent POSTs", async () => {
    const seen: string[] = [];
    const bodies: string[] = [];
    const plain = createServer((req: IncomingMessage, res) => {
      seen.push(`${req.method} ${req.headers.upgrade ?? ""}`.trim());
      let body = "";
      req.on("data", (c: Buffer) => {
        body += c.toString();
      });
      req.on("end", () => {
        if (req.method !== "POST") {
          res.writeHead(405, { "content-length": 0 }).end();
          return;
        }
        bodies.push(body);
        res.writeHead(202, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => plain.listen(0, "127.0.0.1", r));
    try {
      const { port } = plain.address() as AddressInfo;
      const a = agent("a", { peers: { old: `http://127.0.0.1:${port}` } });
      await a.sendEvent("old", "first", {});
      await a.sendEvent("old", "second", {});
      expect(seen).toEqual(["GET triad-a2a-stream", "POST", "POST"]); // asked once, then POSTs
      expect(
        bodies.map((b) => (JSON.parse(b) as { payload: { event_type: string } }).payload.event_type),
      ).toEqual(["first", "second"]);
      expect(a.stats().http).toMatchObject({ posts: 2, streamsOpened: 0 });
    } finally {
      await new Promise((r) => plain.close(r));
    }
  });

  it("send again what a stream left unanswered when its peer went away, to the peer that came back", async () => {
    const port = await freePort();
    const first = agent("b", { agentPort: port });
    const { url } = await first.listen();
    const a = agent("a", { peers: { b: url } });
    await a.sendEvent("b", "one", {});
    expect(a.stats().http.streamsOpened).toBe(1);
    await first.close(); // ends its streams too
    const got: string[] = [];
    const second = agent("b", { agentPort: port });
    second.registerHandler(MessageType.EVENT, (m) => got.push(String(m.payload.event_type)));
    const sent = a.sendEvent("b", "two", {});
    // Sent while nobody listens on the port (the scenario), so a fixed wait before it listens.
    await new Promise((r) => setTimeout(r, 30));
    await second.listen();
    await sent;
    expect(got).toEqual(["two"]);
    expect(a.stats().http.streamsOpened).toBe(2);
  });
});
