import type { JsonObject } from "../src/index.js";
import { triad } from "./lib/triad.js";

const { A2AClient, MessageType } = triad;

/**
 * What signing costs per message of the agents' own kinds: build + sign (RFC 8785 canonical
 * JSON, HMAC-SHA256) on the sender, and the receiver's admission (shape, canonical JSON, HMAC
 * verify, freshness, replay cache), for an execute_tasks message carrying 1, 10 and 100 tasks.
 * Per task is what batching buys.
 */
export type SigningFigures = Array<{
  tasksPerMessage: number;
  bytes: number;
  signUs: number;
  admitUs: number;
  perTaskUs: number;
}>;

const SECRET = "bench-signing-secret";

/** A job as the distributor builds it: members in sorted order, as canonical JSON writes them. */
function job(i: number): JsonObject {
  return {
    fence: 1,
    task: {
      assigned_to: "worker-1",
      attempts: 1,
      completed_at: null,
      created_at: new Date().toISOString(),
      error: null,
      payload: { i },
      result: null,
      started_at: null,
      status: "in_progress",
      task_id: `task-${i}-0123456789`,
      task_type: "echo",
    },
    timeout_ms: 30_000,
  };
}

export function measureSigning(messagesPerSize = 20_000): SigningFigures {
  const sender = new A2AClient({ agentId: "distributor-1", tokenSecret: SECRET, router: null });
  const receiver = new A2AClient({
    agentId: "worker-1",
    tokenSecret: SECRET,
    router: null,
    replayCacheSize: 1_000_000,
    maxConcurrentHandlers: 1_000_000_000,
  });
  receiver.registerHandler(MessageType.EVENT, () => {});
  const out: SigningFigures = [];
  for (const k of [1, 10, 100]) {
    const payload = {
      event_type: "execute_tasks",
      event_data: { tasks: Array.from({ length: k }, (_, i) => job(i)) },
    };
    const n = Math.max(200, Math.round(messagesPerSize / Math.sqrt(k)));
    const make = () => sender.createMessage("worker-1", payload, MessageType.EVENT);
    for (let i = 0; i < Math.min(n, 2000); i++) make(); // warm up
    let t = performance.now();
    const messages = Array.from({ length: n }, make);
    const signUs = ((performance.now() - t) * 1000) / n;
    t = performance.now();
    for (const m of messages) void receiver.handleMessage(m);
    const admitUs = ((performance.now() - t) * 1000) / n;
    out.push({
      tasksPerMessage: k,
      bytes: Buffer.byteLength(JSON.stringify(messages[0])),
      signUs,
      admitUs,
      perTaskUs: (signUs + admitUs) / k,
    });
  }
  void sender.close();
  void receiver.close();
  return out;
}
