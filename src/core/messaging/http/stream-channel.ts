import { type Agent as HttpAgent, request as httpRequest } from "node:http";
import { type Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Socket } from "node:net";
import { codecNames, PAYLOAD_CODEC_HEADER } from "../payload-codec.js";
import { LineReader } from "./lines.js";
import { MAX_REPLY_BYTES } from "./post.js";
import { type RejectedItem, readError, readRejected } from "./receipts.js";

/** The Upgrade token of a message stream on /a2a. */
export const STREAM_PROTOCOL = "triad-a2a-stream";

/**
 * What became of the next `count` messages written on a stream, in the order they were written:
 * `status` as a POST of them would have been answered (202, or the refusal of them all), and
 * the refused ones by index among those `count`.
 */
export type StreamReceipt = {
  count: number;
  status: number;
  rejected: RejectedItem[];
  error: { reason: string; detail: string } | null;
};

export type OpenResult =
  | { kind: "open"; channel: StreamChannel }
  /** Answered without switching: the peer does not take streams (or not now, for 408/429/5xx). */
  | { kind: "refused"; status: number }
  | { kind: "network"; error: Error };

/**
 * Opens a message stream to an /a2a endpoint: `GET /a2a` with `Upgrade: triad-a2a-stream`; a
 * peer that takes it answers 101 and the connection then carries newline-delimited messages one
 * way and receipts the other. Never rejects.
 */
export function openStream(url: URL, agent: HttpAgent | HttpsAgent, timeoutMs: number): Promise<OpenResult> {
  return new Promise((resolve) => {
    let settled = false;
    const settle = (result: OpenResult) => {
      clearTimeout(timer);
      if (settled) {
        if (result.kind === "open") result.channel.close();
        return;
      }
      settled = true;
      resolve(result);
    };
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(url, {
      method: "GET",
      agent,
      headers: { Connection: "Upgrade", Upgrade: STREAM_PROTOCOL },
    });
    // A timer of our own, not req.setTimeout: that one stays on the socket after the upgrade.
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer to the upgrade within ${timeoutMs} ms`)),
      timeoutMs,
    );
    req.on("upgrade", (res, socket: Socket, head: Buffer) => {
      if ((res.headers.upgrade ?? "").toLowerCase() !== STREAM_PROTOCOL) {
        socket.destroy();
        settle({ kind: "refused", status: 400 });
        return;
      }
      const codecs = codecNames(res.headers[PAYLOAD_CODEC_HEADER]);
      settle({ kind: "open", channel: new StreamChannel(socket, head, timeoutMs, codecs) });
    });
    req.on("response", (res) => {
      res.resume();
      settle({ kind: "refused", status: res.statusCode ?? 0 });
    });
    req.on("error", (error) => settle({ kind: "network", error }));
    req.end();
  });
}

/** The sending end of one stream: writes lines, reads receipts, tells when it is gone. */
export class StreamChannel {
  private readonly lines = new LineReader();
  private receiptListener: (receipt: StreamReceipt) => void = () => {};
  private closeListener: (reason: string) => void = () => {};
  private gone = false;

  constructor(
    private readonly socket: Socket,
    head: Buffer,
    /** With nothing heard for this long, the stream is closed (anything unanswered is sent again). */
    idleMs: number,
    /** The payload codecs the receiving agent announced it reads (payload-codec.ts). */
    readonly codecs: ReadonlySet<string> = new Set(),
  ) {
    socket.setNoDelay(true);
    socket.setTimeout(idleMs, () => socket.destroy(new Error(`no receipt within ${idleMs} ms`)));
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("error", (err) => this.end(err.message));
    socket.on("close", () => this.end("the stream closed"));
    if (head.length > 0) queueMicrotask(() => this.read(head));
  }

  onReceipt(listener: (receipt: StreamReceipt) => void): void {
    this.receiptListener = listener;
  }

  /** Called once, when the stream can carry nothing more; receipts not yet read will not come. */
  onClose(listener: (reason: string) => void): void {
    this.closeListener = listener;
  }

  /** Writes pieces of complete lines (each a message, each ending in "\n"), together. */
  write(pieces: string[]): void {
    if (this.gone) return;
    this.socket.ref(); // awaiting receipts: the process stays up for them
    if (pieces.length === 1) {
      this.socket.write(pieces[0] as string);
      return;
    }
    this.socket.cork();
    for (const piece of pieces) this.socket.write(piece);
    this.socket.uncork();
  }

  /**
   * Nothing is awaited on the stream: it no longer keeps the process alive, as an idle
   * keep-alive socket does not (a program that sent its last message may end).
   */
  idle(): void {
    this.socket.unref();
  }

  close(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    // A receipt is small; as a POST's reply, one over MAX_REPLY_BYTES is not buffered.
    for (const line of this.lines.push(chunk, MAX_REPLY_BYTES)) {
      const receipt = readStreamReceipt(line);
      if (receipt === null) {
        this.socket.destroy(new Error("the peer wrote something that is not a receipt"));
        return;
      }
      this.receiptListener(receipt);
    }
    if (this.lines.overflow) {
      this.socket.destroy(new Error(`the peer wrote a receipt longer than ${MAX_REPLY_BYTES} bytes`));
    }
  }

  private end(reason: string): void {
    if (this.gone) return;
    this.gone = true;
    this.socket.destroy();
    this.closeListener(reason);
  }
}

/** A receipt line, read leniently; null when it is not one. */
export function readStreamReceipt(line: string): StreamReceipt | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof parsed !== "object" || parsed === null) return null;
  const { count, status, rejected, error, detail } = parsed as Record<string, unknown>;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) return null;
  if (typeof status !== "number") return null;
  return { count, status, rejected: readRejected(rejected), error: readError(error, detail) };
}
