import { afterEach, describe, expect, it } from "vitest";
import {
  sendWorkerItems,
  type WorkerItem,
  workerPayload,
} from "../../../src/agents/distributor/attempt-job.js";
import type { DispatchedTask } from "../../../src/agents/protocol.js";
import type { JsonObject } from "../../../src/core/json.js";
import { A2AClient } from "../../../src/core/messaging/index.js";

/**
 * A worker whose body limit is smaller than its distributor's says so (`max_body_bytes` on its
 * heartbeats; the distributor calls setPeerLimit). A job over it then goes at once without its
 * dependencies' results: one message, signed once, never refused by the worker. A worker that
 * does not say (an older release) is found out as before: the job goes whole, is refused (413),
 * and goes again without them.
 */

const WORKER_LIMIT = 20_000;
const DISTRIBUTOR_LIMIT = 200_000;

const clients: A2AClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

/** A worker and a distributor over HTTP; `sent`: the kind of every message the distributor signed. */
async function pair() {
  const worker = new A2AClient({
    agentId: "w",
    tokenSecret: "peer-limit",
    router: null,
    maxBodyBytes: WORKER_LIMIT,
  });
  clients.push(worker);
  const { url } = await worker.listen();
  const distributor = new A2AClient({
    agentId: "d",
    tokenSecret: "peer-limit",
    router: null,
    maxBodyBytes: DISTRIBUTOR_LIMIT,
    peers: { w: url },
  });
  clients.push(distributor);
  const signed: string[] = [];
  const signer = (distributor as unknown as { signer: { sign(text: string): string } }).signer;
  const sign = signer.sign.bind(signer);
  signer.sign = (text: string) => {
    signed.push(text);
    return sign(text);
  };
  const send = (items: WorkerItem[]) => {
    const { kind, ...data } = workerPayload(items) as unknown as JsonObject & { kind: string };
    return distributor.sendEvent("w", kind, data).then(() => {});
  };
  return { worker, distributor, signed, send };
}

const job = (taskId: string, resultBytes: number): DispatchedTask =>
  ({
    fence: 1,
    timeout_ms: 1000,
    task: { task_id: taskId, task_type: "join", payload: {}, status: "in_progress", attempts: 1 },
    dependencies: { part: { status: "completed", result: { text: "x".repeat(resultBytes) }, error: null } },
  }) as unknown as DispatchedTask;

describe("a job over its worker's smaller body limit", () => {
  it("goes once, without its dependencies' results, when the worker said its limit", async () => {
    const { worker, distributor, signed, send } = await pair();
    distributor.setPeerLimit("w", WORKER_LIMIT);
    const refused: string[] = [];
    await sendWorkerItems([{ job: job("join-1", 30_000) }], send, (_i, why) => refused.push(why), true);
    expect(refused).toEqual([]);
    expect(signed).toHaveLength(1);
    expect(signed[0]).toContain('"dependencies_left_out":["part"]');
    expect(worker.stats().rejected.too_large).toBe(0);
    expect(distributor.stats().http.messagesStreamed + distributor.stats().http.messagesPosted).toBe(1);
  });

  it("goes whole first, is refused, then goes without them, when the worker did not say (an older one)", async () => {
    const { worker, distributor, signed, send } = await pair();
    distributor.setPeerLimit("w", undefined);
    const refused: string[] = [];
    await sendWorkerItems([{ job: job("join-2", 30_000) }], send, (_i, why) => refused.push(why), true);
    expect(refused).toEqual([]);
    expect(signed).toHaveLength(2);
    expect(signed[1]).toContain('"dependencies_left_out":["part"]');
    expect(worker.stats().rejected.too_large).toBe(1);
  });

  it("that cannot go even without them is refused naming the worker's limit, sent never", async () => {
    const { worker, distributor, signed, send } = await pair();
    distributor.setPeerLimit("w", WORKER_LIMIT);
    const big = job("join-3", 10);
    (big.task as unknown as { payload: JsonObject }).payload = { pad: "p".repeat(30_000) };
    const refused: string[] = [];
    await sendWorkerItems([{ job: big }], send, (_i, why) => refused.push(why), true);
    expect(refused).toEqual([expect.stringMatching(/over the body limit of 20000 that w takes$/)]);
    expect(signed).toEqual([]);
    expect(worker.stats().rejected.too_large).toBe(0);
  });

  it("a limit larger than the distributor's own changes nothing: its own holds, named as ever", async () => {
    const { distributor } = await pair();
    distributor.setPeerLimit("w", DISTRIBUTOR_LIMIT * 2);
    await expect(
      distributor.sendEvent("w", "big", { text: "x".repeat(DISTRIBUTOR_LIMIT) }),
    ).rejects.toMatchObject({
      code: "ERR_A2A_TOO_LARGE",
      message: expect.stringMatching(/over the body limit of 200000$/),
    });
  });
});
