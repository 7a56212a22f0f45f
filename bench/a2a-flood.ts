import { spawn } from "node:child_process";
import { createHmac, randomUUID } from "node:crypto";
import { request } from "node:http";
import { fileURLToPath } from "node:url";
import { A2AClient } from "../src/core/messaging/index.js";
import { benchFlags } from "./lib/flags.js";

/**
 * What a flood of forged messages costs everyone else (issue 21, item 10): a separate process
 * posts badly signed ~1 MiB messages from 127.0.0.2, 8 at a time, while this one times GET /a2a
 * on the same listener — with the failure budget off, then on (20 at once, 5 a second).
 *
 *   npx tsx bench/a2a-flood.ts
 */

const FORGED_BYTES = 1000 * 1024;
const PROBES = 60;

function forged(): string {
  const message = {
    type: "event",
    sender: "peer",
    recipient: "me",
    payload: { event_type: "task_results", event_data: { pad: "x".repeat(FORGED_BYTES) } },
    metadata: {
      origin: "peer",
      version: "v1",
      timestamp: new Date().toISOString(),
      request_id: randomUUID(),
      parent_request_id: null,
      sequence_number: 1,
    },
    signature: createHmac("sha256", "not-the-secret").update("x").digest("hex"),
  };
  return JSON.stringify(message);
}

/** The flooding process: POSTs until killed. */
async function flood(url: string): Promise<never> {
  const body = forged();
  const post = () =>
    new Promise<void>((resolve) => {
      const req = request(
        url,
        {
          method: "POST",
          localAddress: "127.0.0.2",
          agent: false,
          headers: { "content-type": "application/json" },
        },
        (res) => {
          res.resume();
          res.on("end", () => resolve());
        },
      );
      req.on("error", () => resolve());
      req.end(body);
    });
  for (;;) await Promise.all(Array.from({ length: 8 }, post));
}

function timedGet(url: string): Promise<number> {
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = request(url, { agent: false }, (res) => {
      res.resume();
      res.on("end", () => resolve(performance.now() - t0));
    });
    req.on("error", () => resolve(Number.NaN));
    req.end();
  });
}

async function measure(budget: { burst: number; perSecond: number }, label: string): Promise<void> {
  const receiver = new A2AClient({
    agentId: "me",
    tokenSecret: "secret",
    router: null,
    failureBudget: budget,
  });
  const { url } = await receiver.listen();
  const self = fileURLToPath(import.meta.url);
  const child = spawn(process.execPath, ["--import", "tsx", self, "--flood", `${url}/a2a`], {
    stdio: "ignore",
  });
  await new Promise((r) => setTimeout(r, 1500));
  const times: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    times.push(await timedGet(`${url}/a2a`));
    await new Promise((r) => setTimeout(r, 30));
  }
  child.kill();
  times.sort((a, b) => a - b);
  const { bad_signature, throttled } = receiver.stats().rejected;
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(1);
  console.log(
    `${label}: GET /a2a p50 ${at(0.5)} ms, p95 ${at(0.95)} ms; forged messages verified ${bad_signature}, refused unread ${throttled}`,
  );
  await receiver.close();
}

const { flood: floodUrl } = benchFlags(import.meta.url, {
  flood: {
    kind: "string",
    hidden: true,
    value: "URL",
    help: "the flooding process (a2a-flood.ts's own child)",
  },
});
if (floodUrl !== undefined) {
  await flood(floodUrl);
} else {
  await measure({ burst: 1e9, perSecond: 1e9 }, "budget off");
  await measure({ burst: 20, perSecond: 5 }, "budget on (20, 5/s)");
  process.exit(0);
}
