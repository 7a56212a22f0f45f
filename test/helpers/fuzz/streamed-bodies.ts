import { connect } from "node:net";
import fc from "fast-check";
import { type FuzzProbe, honestStatus, leaksInternals, NO_ANSWER } from "./invariant.js";
import { type A2APost, post, textsOf } from "./signed-bodies.js";
import type { FuzzSystem } from "./system.js";

/**
 * The signed-body recipes of signed-bodies.ts, written as lines on a message stream (GET /a2a
 * upgraded to triad-a2a-stream) instead of POSTed: each value one line (raw text may hold
 * newlines of its own, and so be several), a replayed one written twice. Every line must be
 * answered by a receipt, in order and with an honest status, unless the stream was ended for a
 * reason it gave (413 for a line over the limit, 429 for a peer past its failure budget).
 */

type StreamAnswer = {
  upgrade: number;
  retryAfter: string | null;
  receipts: Array<Record<string, unknown>>;
  text: string;
};

const ANSWER_MS = 10_000;

function exchange(port: number, text: string, lines: number): Promise<StreamAnswer> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let buffer = "";
    let all = "";
    let upgrade = 0;
    let retryAfter: string | null = null;
    const receipts: Array<Record<string, unknown>> = [];
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ upgrade, retryAfter, receipts, text: all });
    };
    const timer = setTimeout(done, ANSWER_MS);
    socket.on("connect", () => {
      socket.write(
        "GET /a2a HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade\r\nUpgrade: triad-a2a-stream\r\n\r\n",
      );
    });
    socket.setEncoding("utf8"); // a character split between chunks stays whole
    socket.on("data", (d: string) => {
      buffer += d;
      all += d;
      if (upgrade === 0) {
        const end = buffer.indexOf("\r\n\r\n");
        if (end === -1) return;
        const head = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        upgrade = Number(head.split(" ")[1]);
        retryAfter = /\r\nretry-after: *(\S+)/i.exec(head)?.[1] ?? null;
        if (upgrade !== 101) return done();
        socket.write(text);
      }
      for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n")) {
        try {
          receipts.push(JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>);
        } catch {
          receipts.push({ notJson: buffer.slice(0, nl) });
        }
        buffer = buffer.slice(nl + 1);
      }
      const answered = receipts.reduce((n, r) => n + (typeof r.count === "number" ? r.count : 0), 0);
      if (answered >= lines) done();
    });
    socket.on("error", () => {});
    socket.on("close", done);
  });
}

function problemsOf(answer: StreamAnswer, lines: number): string[] {
  if (answer.upgrade === 0) return [NO_ANSWER];
  if (answer.upgrade !== 101) {
    return honestStatus(answer.upgrade, answer.retryAfter) ? [] : [`upgrade answered ${answer.upgrade}`];
  }
  const problems: string[] = [];
  let answered = 0;
  for (const r of answer.receipts) {
    const { count, status } = r;
    if (typeof count !== "number" || typeof status !== "number") {
      problems.push(`not a receipt: ${JSON.stringify(r).slice(0, 200)}`);
      continue;
    }
    answered += count;
    // Busy is a 503 the sender retries; everything else below 500.
    if (status >= 500 && !(status === 503 && r.error === "busy")) problems.push(`receipt status ${status}`);
  }
  const last = answer.receipts.at(-1);
  const endedForAReason = last !== undefined && (last.status === 413 || last.status === 429);
  if (answered < lines && !endedForAReason) problems.push(`receipts for ${answered} of ${lines} lines`);
  if (leaksInternals(answer.text)) problems.push("a stack trace in a receipt");
  return problems;
}

export const streamedBodies: FuzzProbe<A2APost> = {
  arbitrary: (system) => post(system),
  async send(system: FuzzSystem, book, p) {
    const agent = system.agents[p.target]!;
    const texts = textsOf(system, book, p);
    if (texts.length === 0) return [];
    let text = `${texts.join("\n")}\n`;
    if (p.recipes.some((r) => r.kind === "message" && r.how === "replayed")) text += text;
    const lines = text.split("\n").length - 1;
    const answer = await exchange(agent.port, text, lines);
    return problemsOf(answer, lines).map(
      (problem) => `stream to ${agent.id} ${fc.stringify(p).slice(0, 600)}: ${problem}`,
    );
  },
};
