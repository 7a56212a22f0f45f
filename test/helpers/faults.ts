import {
  Agent,
  createServer,
  type IncomingMessage,
  request,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { StringDecoder } from "node:string_decoder";

/**
 * A fault-injecting transport between two Triad processes: an HTTP proxy in front of an
 * agent's A2A listener. Peers are pointed at the proxy (`--coordinator`/`--distributor` URLs,
 * `--advertise-url`), so every message between tiers crosses it, and it misbehaves the way a
 * network does — per message, not per request:
 *
 *   drop       the message never arrives, and its sender is told it did (a 202 for it)
 *   duplicate  it arrives twice (the second copy a little later, on its own)
 *   delay      it arrives later, on its own, after messages sent after it (so also reordered)
 *   reorder    the messages of one POST arrive shuffled; a POST of one is held back a little
 *              while later POSTs of the same sender overtake it
 *   failPost   the whole POST is answered 503 and not delivered (the sender retries it)
 *   loseReply  the POST is delivered but its reply is lost (connection reset): the sender
 *              retries with the same request ids, and the receiver must take them once
 *   isolate    a partition: whatever these senders send is cut off (connection reset)
 *
 * A message stream (GET /a2a upgraded to triad-a2a-stream) is taken by the proxy itself: each
 * chunk of lines a sender writes meets the same faults as a POST of those messages ("the POST"
 * above), goes on to the agent as a POST, and its receipt line comes back in order (a lost reply
 * ends the stream). Whatever is not a POST /a2a (GET /a2a, the coordinator's API) passes through
 * untouched. The proxy keeps the last messages it saw, for replay attacks on the agent behind it.
 */

export type MessageFaults = {
  drop?: number;
  duplicate?: number;
  delay?: number;
  /** Range of a delay, ms. Default 50..800. */
  delayMs?: [number, number];
  reorder?: number;
  failPost?: number;
  loseReply?: number;
  /** Agent ids cut off from the agent behind the proxy (a network partition, one direction). */
  isolate?: string[];
};

export type FaultCounts = {
  posts: number;
  messages: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  reordered: number;
  failedPosts: number;
  lostReplies: number;
  /** POSTs cut off by a partition. */
  partitioned: number;
};

type Reply = { status: number; headers: Record<string, string>; body: Buffer };

type A2AMessageLike = {
  sender?: string;
  metadata?: { request_id?: string };
  payload?: Record<string, unknown>;
};

const MAX_BODY = 8 * 1024 * 1024;
const CAPTURE = 200;

export class FaultProxy {
  faults: MessageFaults;
  readonly counts: FaultCounts = {
    posts: 0,
    messages: 0,
    dropped: 0,
    duplicated: 0,
    delayed: 0,
    reordered: 0,
    failedPosts: 0,
    lostReplies: 0,
    partitioned: 0,
  };
  /** The last messages that went through (parsed), oldest first. */
  readonly captured: A2AMessageLike[] = [];
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 32 });
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private closed = false;

  private constructor(
    private readonly server: Server,
    private readonly target: URL,
    faults: MessageFaults,
    private readonly random: () => number,
  ) {
    this.faults = faults;
  }

  /** A proxy to `targetUrl` on a free loopback port (or on `port`). */
  static async start(
    targetUrl: string,
    faults: MessageFaults = {},
    options: { port?: number; random?: () => number } = {},
  ): Promise<FaultProxy> {
    const server = createServer();
    const proxy = new FaultProxy(server, new URL(targetUrl), faults, options.random ?? Math.random);
    server.on("request", (req, res) => {
      proxy.handle(req, res).catch(() => {
        if (!res.headersSent) res.writeHead(502).end();
        else res.destroy();
      });
    });
    server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) =>
      proxy.stream(req, socket, head),
    );
    server.on("connection", (socket) => {
      proxy.sockets.add(socket);
      socket.once("close", () => proxy.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
    });
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Total faults injected so far. */
  get injected(): number {
    const c = this.counts;
    return c.dropped + c.duplicated + c.delayed + c.reordered + c.failedPosts + c.lostReplies;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private roll(p: number | undefined): boolean {
    return p !== undefined && p > 0 && this.random() < p;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    if (body === null) {
      res.writeHead(413, { connection: "close" }).end();
      return;
    }
    const path = (req.url ?? "/").split("?")[0];
    if (req.method !== "POST" || path !== "/a2a") {
      return relay(res, await this.forward(req.method ?? "GET", req.url ?? "/", req.headers, body));
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(body.toString("utf8"));
    } catch {
      return relay(res, await this.forward("POST", req.url ?? "/a2a", req.headers, body));
    }
    const single = !Array.isArray(parsed);
    const outcome = await this.carry((single ? [parsed] : parsed) as A2AMessageLike[], single, req.headers);
    if (outcome === "reset") req.socket.destroy();
    else relay(res, outcome);
  }

  /**
   * A message stream: answered 101 by the proxy, each chunk of complete lines carried as a POST
   * of them would be (concurrently, so a held-back chunk is overtaken), and the receipts written
   * back in the order of the chunks.
   */
  private stream(req: IncomingMessage, socket: Socket, head: Buffer): void {
    if ((req.url ?? "/").split("?")[0] !== "/a2a" || this.closed) {
      socket.destroy();
      return;
    }
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${req.headers.upgrade}\r\n\r\n`,
    );
    socket.on("error", () => socket.destroy());
    let rest = "";
    let previous: Promise<void> = Promise.resolve();
    // Decoded across chunks: a character split between two of them stays whole (an HTTP
    // server's socket refuses setEncoding).
    const decoder = new StringDecoder("utf8");
    const read = (chunk: Buffer) => {
      const text = rest + decoder.write(chunk);
      const cut = text.lastIndexOf("\n");
      if (cut === -1) {
        rest = text;
        return;
      }
      rest = text.slice(cut + 1);
      const messages = text
        .slice(0, cut)
        .split("\n")
        .map((line): unknown => {
          try {
            return JSON.parse(line);
          } catch {
            return line;
          }
        }) as A2AMessageLike[];
      // Its failure handled at once (the agent behind is down): it is awaited only once the
      // chunks before it are answered, and a rejection left until then is an unhandled one.
      const outcome = this.carry(messages, false, { "content-type": "application/json" }).catch(
        () => "reset" as const,
      );
      previous = previous.then(async () => {
        const answer = await outcome;
        if (answer === "reset") socket.destroy();
        else if (!socket.destroyed) socket.write(receiptLine(messages.length, answer));
      });
    };
    socket.on("data", read);
    // Bytes that came with the upgrade request itself.
    if (head.length > 0) read(head);
  }

  /** One POST's (or stream chunk's) messages through the faults: the reply for the sender, or "reset". */
  private async carry(
    messages: A2AMessageLike[],
    single: boolean,
    headers: IncomingMessage["headers"],
  ): Promise<Reply | "reset"> {
    this.counts.posts++;
    const f = this.faults;
    // One POST carries one sender's messages (each sender has its own link to each peer).
    if (f.isolate?.includes(String(messages[0]?.sender))) {
      this.counts.partitioned++;
      return "reset";
    }
    if (this.roll(f.failPost)) {
      this.counts.failedPosts++;
      return {
        status: 503,
        headers: { "retry-after": "0", "content-type": "application/json" },
        body: Buffer.from("{}"),
      };
    }
    this.counts.messages += messages.length;
    for (const m of messages) {
      this.captured.push(m);
      if (this.captured.length > CAPTURE) this.captured.shift();
    }
    // Which of the sender's messages go out now, by their index in its POST.
    let now: number[] = [];
    messages.forEach((m, i) => {
      if (this.roll(f.drop)) {
        this.counts.dropped++;
        return;
      }
      if (this.roll(f.duplicate)) {
        this.counts.duplicated++;
        this.later(m, 5, 100);
      }
      if (this.roll(f.delay)) {
        this.counts.delayed++;
        const [min, max] = f.delayMs ?? [50, 800];
        this.later(m, min, max);
        return;
      }
      now.push(i);
    });
    if (now.length > 0 && this.roll(f.reorder)) {
      this.counts.reordered++;
      // Several messages: shuffled. One: held back a little while the sender's next POSTs overtake it.
      if (now.length > 1) now = shuffle(now, this.random);
      else await sleep(20 + this.random() * 180);
    }
    if (now.length === 0) {
      // Everything was dropped or held back: the sender believes it was delivered.
      return { status: 202, headers: { "content-type": "application/json" }, body: Buffer.from("{}") };
    }
    const out = now.length === 1 && single ? messages[0] : now.map((i) => messages[i]);
    const reply = await this.forward("POST", "/a2a", headers, Buffer.from(JSON.stringify(out)));
    if (this.roll(f.loseReply)) {
      this.counts.lostReplies++;
      return "reset";
    }
    // A receipt lists refused messages by their index in the body it got: map them back.
    return { ...reply, body: remapReceipt(reply.body, now) };
  }

  /** Delivers one message on its own, `min..max` ms from now; its reply goes nowhere. */
  private later(message: unknown, min: number, max: number): void {
    const timer = setTimeout(
      () => {
        this.timers.delete(timer);
        if (this.closed) return;
        const body = Buffer.from(JSON.stringify(message));
        void this.forward("POST", "/a2a", { "content-type": "application/json" }, body).catch(() => {});
      },
      min + this.random() * (max - min),
    );
    this.timers.add(timer);
  }

  private forward(
    method: string,
    path: string,
    headers: IncomingMessage["headers"],
    body: Buffer,
  ): Promise<{ status: number; headers: Record<string, string>; body: Buffer }> {
    return new Promise((resolve, reject) => {
      const { host: _host, connection: _c, "content-length": _l, ...rest } = headers;
      const req = request(
        new URL(path, this.target),
        {
          method,
          agent: this.agent,
          headers: { ...rest, "content-length": body.length },
          timeout: 10_000,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const type = res.headers["content-type"];
            resolve({
              status: res.statusCode ?? 502,
              headers: typeof type === "string" ? { "content-type": type } : {},
              body: Buffer.concat(chunks),
            });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () => req.destroy(new Error("upstream timed out")));
      req.on("error", reject);
      req.end(body);
    });
  }
}

function relay(res: ServerResponse, reply: Reply): void {
  res.writeHead(reply.status, { ...reply.headers, "content-length": reply.body.length });
  res.end(reply.body);
}

async function readAll(req: IncomingMessage): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A POST's reply as a stream receipt line for the `count` messages of a chunk. */
function receiptLine(count: number, reply: Reply): string {
  let payload: { rejected?: unknown; error?: unknown; detail?: unknown } = {};
  try {
    payload = (JSON.parse(reply.body.toString("utf8")) as { payload?: typeof payload }).payload ?? {};
  } catch {
    // Not a receipt (a 503 from the proxy itself): the status says it all.
  }
  const line: Record<string, unknown> = { count, status: reply.status, rejected: payload.rejected ?? [] };
  if (typeof payload.error === "string")
    Object.assign(line, { error: payload.error, detail: payload.detail });
  return `${JSON.stringify(line)}\n`;
}

function remapReceipt(body: Buffer, sent: number[]): Buffer {
  try {
    const receipt = JSON.parse(body.toString("utf8")) as {
      payload?: { rejected?: Array<{ index: number }> };
    };
    const rejected = receipt.payload?.rejected;
    if (!Array.isArray(rejected) || rejected.length === 0) return body;
    for (const r of rejected) r.index = sent[r.index] ?? r.index;
    return Buffer.from(JSON.stringify(receipt));
  } catch {
    return body;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function shuffle<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
