// A2A messaging throughput: signing and verifying on one core, and messages per second over
// HTTP between two processes, one message at a time and batched, over a POST per batch and
// over a message stream (GET /a2a upgraded), with the CPU each process spent per message.
//
//   npx tsx bench/messaging.ts            all figures
//   npx tsx bench/messaging.ts --quick    fewer iterations (a smoke run)
//
// The message is ~440 bytes on the wire, as in ARCHITECTURE.md's reference figures.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { JsonValue } from "../src/core/json.js";
import { A2AClient, type A2AConfig, MessageType } from "../src/core/messaging/index.js";
import { cpuSecondsOf } from "./lib/child.js";
import { benchFlags } from "./lib/flags.js";

const SECRET = "bench-secret-0123456789";
const { quick, receiver: isReceiver } = benchFlags(import.meta.url, {
  quick: { kind: "boolean", help: "fewer iterations (a smoke run)" },
  receiver: { kind: "boolean", hidden: true, help: "the receiving process (messaging.ts's own child)" },
});
const PAYLOAD: Record<string, JsonValue> = {
  task_id: "task-000123",
  task_type: "compute",
  payload: { operation: "sum", values: [1, 2, 3, 4, 5, 6, 7, 8] },
  attempt: 1,
};

function client(agentId: string, extra: Partial<A2AConfig> = {}): A2AClient {
  return new A2AClient({ agentId, tokenSecret: SECRET, router: null, ...extra });
}

/** Operations per second of `op` over `n` calls, after a warm-up. */
function rate(n: number, op: (i: number) => void): number {
  for (let i = 0; i < Math.min(20_000, n); i++) op(i);
  const start = performance.now();
  for (let i = 0; i < n; i++) op(i);
  return n / ((performance.now() - start) / 1000);
}

function cpuFigures(): void {
  const sender = client("coordinator-1");
  const receiver = client("distributor-1", { replayCacheSize: 1_000_000 });
  const sample = sender.createMessage("distributor-1", PAYLOAD);
  const n = quick ? 50_000 : 300_000;
  console.log(`message size on the wire: ${Buffer.byteLength(JSON.stringify(sample))} bytes`);
  report(
    "sign (RFC 8785 + HMAC-SHA256)",
    rate(n, () => sender.sign(sample)),
    "signs/s",
  );
  report(
    "verify (shape + RFC 8785 + HMAC)",
    rate(n, () => receiver.verify(sample)),
    "verifies/s",
  );
  report(
    "createMessage (build + sign)",
    rate(n, () => sender.createMessage("distributor-1", PAYLOAD)),
    "msgs/s",
  );
  const fresh = Array.from({ length: n + 20_000 }, () => sender.createMessage("distributor-1", PAYLOAD));
  let next = 0;
  report(
    "admit (verify + freshness + replay cache)",
    rate(n, () => void receiver.handleMessage(fresh[next++])),
    "msgs/s",
  );
}

/** The receiving process: counts EVENTs, prints its port, exits when its parent says so. */
async function receiverProcess(): Promise<void> {
  const receiver = client("receiver", { maxConcurrentHandlers: 100_000 });
  let handled = 0;
  receiver.registerHandler(MessageType.EVENT, () => {
    handled += 1;
  });
  const { port } = await receiver.listen();
  process.stdout.write(`${JSON.stringify({ port })}\n`);
  process.stdin.on("data", () => process.stdout.write(`${JSON.stringify({ handled })}\n`));
  process.stdin.on("end", () => void receiver.close().then(() => process.exit(0)));
}

async function httpFigures(): Promise<void> {
  const child = spawn(process.execPath, ["--import", "tsx", fileURLToPath(import.meta.url), "--receiver"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines: Array<Record<string, number>> = [];
  let waiting: (() => void) | null = null;
  child.stdout.on("data", (d: Buffer) => {
    for (const line of d.toString().split("\n")) if (line.trim()) lines.push(JSON.parse(line));
    waiting?.();
  });
  const nextLine = () =>
    new Promise<Record<string, number>>((resolve) => {
      const check = () => {
        const line = lines.shift();
        if (line) resolve(line);
        else waiting = check;
      };
      check();
    });
  const { port } = await nextLine();
  const url = `http://127.0.0.1:${port}`;
  const n = quick ? 5_000 : 50_000;
  const rows = [
    ["1 at a time (each sent when the last was accepted)", 1, 1, 1],
    ["1 message per batch, 32 in flight", 1, 32, 64],
    ["batches of 10, 32 in flight", 10, 32, 640],
    ["batches of 100, 8 in flight", 100, 8, 1600],
  ] as const;
  for (const [label, batch, inFlight, window] of rows) {
    for (const streams of [false, true]) {
      const sender = client(`sender-${batch}-${window}-${streams}`, {
        peers: { receiver: url },
        maxBatchMessages: batch,
        maxInFlightPerPeer: inFlight,
        maxQueuedPerPeer: n,
        sendTimeoutMs: 60_000,
        streams,
      });
      // Closed loop: a window of messages outstanding, a new one sent as each is acknowledged, so
      // that signing, sending, verifying and acknowledging overlap as they do in a running system.
      const count = window === 1 ? Math.min(n, 20_000) : n;
      await pump(sender, Math.min(5_000, count), window); // warm-up: connections, JIT
      const start = performance.now();
      const cpu0 = process.cpuUsage();
      const peer0 = cpuSecondsOf(child.pid);
      await pump(sender, count, window);
      const seconds = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpu0);
      const own = ((cpu.user + cpu.system) / count).toFixed(0);
      const peer = (((cpuSecondsOf(child.pid) - peer0) * 1e6) / count).toFixed(0);
      const { posts, messagesPosted, streamWrites, messagesStreamed, retries } = sender.stats().http;
      const per = streams
        ? `${(messagesStreamed / streamWrites).toFixed(1)} msgs/write`
        : `${(messagesPosted / posts).toFixed(1)} msgs/POST`;
      report(
        `${streams ? "stream" : "POST  "}, ${label}`,
        count / seconds,
        `msgs/s (${per}, CPU µs/msg sender ${own} receiver ${peer}, ${retries} retries)`,
      );
      await sender.close();
    }
  }
  child.stdin.write("stats\n");
  const { handled } = await nextLine();
  console.log(`receiver handled ${handled} messages, each verified once`);
  child.stdin.end();
}

function pump(sender: A2AClient, n: number, window: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let started = 0;
    let done = 0;
    const launch = () => {
      if (started === n) return;
      started += 1;
      sender.sendEvent("receiver", "bench", PAYLOAD).then(() => {
        done += 1;
        if (done === n) resolve();
        else launch();
      }, reject);
    };
    for (let i = 0; i < Math.min(window, n); i++) launch();
  });
}

function report(what: string, perSecond: number, unit: string): void {
  console.log(`${what.padEnd(60)} ${Math.round(perSecond).toLocaleString("en-US").padStart(10)} ${unit}`);
}

if (isReceiver) {
  await receiverProcess();
} else {
  console.log(
    `node ${process.version}, ${quick ? "quick run" : "full run"}; every figure is one core per process`,
  );
  cpuFigures();
  await httpFigures();
}
