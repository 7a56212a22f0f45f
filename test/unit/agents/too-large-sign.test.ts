import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  sendWorkerItems,
  type WorkerItem,
  workerPayload,
} from "../../../src/agents/distributor/attempt-job.js";
import type { DispatchedTask } from "../../../src/agents/protocol.js";
import type { JsonObject } from "../../../src/core/json.js";
import { A2AClient } from "../../../src/core/messaging/index.js";

/**
 * A message over the sender's body limit is refused before it is signed: the size is read off
 * the canonical text the signature would cover (the one serialisation), so a job refused as too
 * large costs no signature, and the job sent instead (without its dependencies' results) one.
 */

const LIMIT = 20_000;

describe("a message over the body limit", () => {
  let worker: A2AClient;
  let distributor: A2AClient;
  /** The text of every signature the distributor made, in order. */
  const signed: string[] = [];

  beforeAll(async () => {
    worker = new A2AClient({
      agentId: "w",
      tokenSecret: "too-large-sign",
      router: null,
      maxBodyBytes: LIMIT,
    });
    const { url } = await worker.listen();
    distributor = new A2AClient({
      agentId: "d",
      tokenSecret: "too-large-sign",
      router: null,
      maxBodyBytes: LIMIT,
      peers: { w: url },
    });
    const signer = (distributor as unknown as { signer: { sign(text: string): string } }).signer;
    const sign = signer.sign.bind(signer);
    signer.sign = (text: string) => {
      signed.push(text);
      return sign(text);
    };
  });

  afterAll(async () => {
    await distributor?.close();
    await worker?.close();
  });

  const job = (taskId: string, resultBytes: number): DispatchedTask =>
    ({
      fence: 1,
      timeout_ms: 1000,
      task: { task_id: taskId, task_type: "join", payload: {}, status: "in_progress", attempts: 1 },
      dependencies: { part: { status: "completed", result: { text: "x".repeat(resultBytes) }, error: null } },
    }) as unknown as DispatchedTask;

  const send = (items: WorkerItem[]) => {
    const { kind, ...data } = workerPayload(items) as unknown as JsonObject & { kind: string };
    return distributor.sendEvent("w", kind, data).then(() => {});
  };

  it("is refused without a signature (ERR_A2A_TOO_LARGE), and takes no sequence number", async () => {
    signed.length = 0;
    await expect(distributor.sendEvent("w", "big", { text: "x".repeat(LIMIT) })).rejects.toMatchObject({
      code: "ERR_A2A_TOO_LARGE",
      message: expect.stringMatching(/over the body limit of 20000$/),
    });
    expect(signed).toEqual([]);
    const next = distributor.createMessage("w", { small: true });
    await distributor.send(next);
    expect(next.metadata.sequence_number).toBe(1);
    expect(signed).toHaveLength(1);
  });

  it("goes just under the limit, and just over it is refused: the check counts the signature's bytes", async () => {
    // The largest payload that goes: found by sending, each size once (signed only when it goes).
    let fits = 0;
    for (let pad = LIMIT - 400; pad < LIMIT; pad++) {
      const ok = await distributor.sendEvent("w", "edge", { text: "y".repeat(pad) }).then(
        () => true,
        (e: { code?: string }) => (e.code === "ERR_A2A_TOO_LARGE" ? false : Promise.reject(e)),
      );
      if (!ok) break;
      fits = pad;
    }
    expect(fits).toBeGreaterThan(LIMIT - 400);
    // What went was within the limit as the receiver counts it (it took it: no 413).
    const last = signed.at(-1)!;
    // Its bytes on the wire (the text, `,"signature":"`, 64 hex, `"`) are the limit to the byte.
    expect(Buffer.byteLength(last) + 64 + 15).toBe(LIMIT);
  });

  it("as a job with its dependencies' results is signed once: the job that goes without them", async () => {
    signed.length = 0;
    const refused: string[] = [];
    await sendWorkerItems([{ job: job("join-1", 30_000) }], send, (_item, why) => refused.push(why), true);
    expect(refused).toEqual([]);
    expect(signed).toHaveLength(1);
    expect(signed[0]).toContain('"dependencies_left_out":["part"]');
  });

  it("in a batch with a job that fits: each message that goes signed once, the one refused never", async () => {
    signed.length = 0;
    const refused: string[] = [];
    const items = [{ job: job("join-2", 30_000) }, { job: job("join-3", 10) }];
    await sendWorkerItems(items, send, (_item, why) => refused.push(why), true);
    expect(refused).toEqual([]);
    // The small job alone, and the large one without its results; neither the pair nor the large one whole.
    expect(signed).toHaveLength(2);
    expect(signed.every((text) => Buffer.byteLength(text) < LIMIT)).toBe(true);
  });
});
