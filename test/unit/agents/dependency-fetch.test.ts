import { describe, expect, it } from "vitest";
import type { TaskLedger } from "../../../src/agents/ledger/task-ledger.js";
import type { DispatchedTask, PayloadOf } from "../../../src/agents/protocol.js";
import { fetchLeftOut, leaveOutResults, serveFetch } from "../../../src/agents/workflow/dependency-fetch.js";
import { TriadError } from "../../../src/core/errors.js";
import type { JsonObject } from "../../../src/core/json.js";
import type { A2AClient, A2AMessage } from "../../../src/core/messaging/index.js";

/**
 * fetch_dependencies (src/agents/workflow/dependency-fetch.ts) between a worker and its
 * distributor, without a transport: the distributor's answer goes straight back to the worker's
 * fetch. The replies' size limit is enforced here as the HTTP transport does (ERR_A2A_TOO_LARGE).
 */

const LIMIT = 10_000;
const text = (id: string, bytes: number) => id.padEnd(bytes, "x");

/** A distributor `d` whose store has `join` in progress (fence 3) on worker `w`, depending on `sizes`' ids. */
function distributor(sizes: Record<string, number>) {
  const ledger = {
    get: async (taskId: string) =>
      taskId === "join"
        ? {
            task: { status: "in_progress", assigned_to: "w", depends_on: Object.keys(sizes) },
            fence: 3,
            distributor: "d",
          }
        : null,
    outcome: async (id: string) =>
      sizes[id] === undefined
        ? null
        : { status: "completed", result: { text: text(id, sizes[id]!) }, error: null },
  } as unknown as TaskLedger;
  const replies: Array<{ body: JsonObject; ok: boolean }> = [];
  const a2a = {
    maxBodyBytes: LIMIT,
    sendResponse: async (_to: string, _parent: string, body: JsonObject, ok: boolean) => {
      const bytes = Buffer.byteLength(JSON.stringify(body)) + 600; // the envelope around it
      if (bytes > LIMIT)
        throw new TriadError("ERR_A2A_TOO_LARGE", `message of ${bytes} bytes is over the body limit`);
      replies.push({ body, ok });
    },
  } as unknown as A2AClient;
  /** The worker's request (its payload), answered as the distributor's RESPONSE message. */
  const request = async (sender: string, payload: JsonObject): Promise<A2AMessage> => {
    const p = {
      kind: "fetch_dependencies",
      ...(payload.event_data as JsonObject),
    } as PayloadOf<"fetch_dependencies">;
    const message = { sender, metadata: { request_id: "r" } } as unknown as A2AMessage;
    await serveFetch({ ledger, distributorId: "d", a2a }, message, p);
    const last = replies.at(-1)!;
    return {
      payload: { success: last.ok, data: last.ok ? last.body : null, error: last.ok ? null : last.body },
    } as unknown as A2AMessage;
  };
  return { replies, request };
}

function joinJob(ids: string[]): DispatchedTask {
  const dependencies = Object.fromEntries(
    ids.map((id) => [id, { status: "completed" as const, result: { text: "..." }, error: null }]),
  );
  const job = {
    fence: 3,
    timeout_ms: 1000,
    task: { task_id: "join", depends_on: ids } as unknown as DispatchedTask["task"],
    dependencies,
  };
  return leaveOutResults(job)!;
}

describe("fetch_dependencies", () => {
  it("leaves out every result of a job, and only when it has one", () => {
    const job = joinJob(["a", "b"]);
    expect(job.dependencies_left_out).toEqual(["a", "b"]);
    expect(job.dependencies).toEqual({
      a: { status: "completed", result: null, error: null },
      b: { status: "completed", result: null, error: null },
    });
    expect(leaveOutResults(job)).toBeNull();
  });

  it("brings every result whole, in replies under the limit", async () => {
    const sizes = { a: 3000, b: 3000, c: 3000, d: 3000, e: 3000 };
    const d = distributor(sizes);
    const got = await fetchLeftOut(joinJob(Object.keys(sizes)), LIMIT, (payload) => d.request("w", payload));
    for (const [id, bytes] of Object.entries(sizes))
      expect(got[id]).toEqual({ status: "completed", result: { text: text(id, bytes) }, error: null });
    expect(d.replies.length).toBeGreaterThan(1);
    for (const r of d.replies) expect(Buffer.byteLength(JSON.stringify(r.body))).toBeLessThan(LIMIT);
  });

  it("answers only the worker that runs the attempt, and only ids the task depends on", async () => {
    const d = distributor({ a: 10 });
    const ask = (sender: string, fence: number, ids: string[]) =>
      d.request(sender, { event_type: "fetch_dependencies", event_data: { task_id: "join", fence, ids } });
    expect((await ask("intruder", 3, ["a"])).payload).toMatchObject({
      success: false,
      error: { code: "ERR_NOT_ATTEMPT_HOLDER" },
    });
    expect((await ask("w", 2, ["a"])).payload).toMatchObject({
      success: false,
      error: { code: "ERR_NOT_ATTEMPT_HOLDER" },
    });
    expect((await ask("w", 3, ["a", "secret"])).payload).toMatchObject({
      success: false,
      error: { code: "ERR_INVALID_ARGUMENT", message: "task join does not depend on secret" },
    });
    expect((await ask("w", 3, ["a"])).payload).toMatchObject({
      success: true,
      data: { dependencies: { a: {} } },
    });
  });

  it("a result too large for any reply fails the fetch with ERR_DEPENDENCY_TOO_LARGE", async () => {
    const d = distributor({ a: 100, huge: LIMIT });
    const fetching = fetchLeftOut(joinJob(["a", "huge"]), LIMIT, (payload) => d.request("w", payload));
    await expect(fetching).rejects.toMatchObject({
      code: "ERR_DEPENDENCY_TOO_LARGE",
      message: expect.stringMatching(/result of dependency huge of task join is too large/),
    });
  });
});
