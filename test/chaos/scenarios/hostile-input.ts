import { request } from "node:http";
import { expect } from "vitest";
import { A2AClient, type A2AMessage, type JsonValue, MessageType } from "../../../src/index.js";
import { API_TOKEN, type ChaosCluster, DEFAULT_TIMING, SECRET } from "../../helpers/chaos-cluster.js";
import type { HistoryEvent } from "../../helpers/history/history.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario, slowTask } from "./common.js";

/**
 * Hostile input over HTTP to every agent, while a real task is in flight: to each A2A listener
 * (coordinator, distributor, worker) forged, unsigned, tampered, replayed, stale, misdirected,
 * truncated, oversized and shapeless messages — the forged and tampered ones trying to commit a
 * result for the running task, or to make the worker run a task nobody submitted — and to the
 * coordinator's API malformed JSON, invalid tasks, oversized bodies and missing credentials.
 * Each is refused with its status and counted by reason; nothing changes; everything keeps
 * serving.
 */

type Reply = { status: number; body: string };

/** One POST of raw bytes (fetch would refuse to send some of them), the reply if one came. */
function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: "POST", headers: { "content-type": "application/json", ...headers } },
      (res) => {
        let text = "";
        res.on("data", (d: Buffer) => {
          text += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on("error", () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    // The server may answer an oversized body and close before it is all written.
    req.on("error", (err) => reject(err));
    req.end(body);
  });
}

/** Who pretends to be whom towards each target, and the payload that would do harm if it got in. */
type Target = { id: string; sender: string; harmful: (ctx: Attack) => { event: string; data: JsonValue } };
type Attack = { victim: string; fence: number };

const TARGETS: Target[] = [
  {
    id: "d1",
    sender: "w1",
    harmful: ({ victim, fence }) => ({
      event: "task_results",
      data: { results: [{ task_id: victim, fence, status: "completed", result: { forged: true } }] },
    }),
  },
  {
    id: "w1",
    sender: "d1",
    harmful: () => ({
      event: "execute_tasks",
      data: {
        tasks: [
          {
            task: {
              task_id: "forged-task",
              task_type: "slow",
              payload: { ms: 1 },
              status: "in_progress",
              result: null,
              error: null,
              attempts: 1,
              assigned_to: "w1",
              created_at: new Date().toISOString(),
              started_at: null,
              completed_at: null,
            },
            fence: 99,
            timeout_ms: 1000,
          },
        ],
      },
    }),
  },
  {
    id: "c1",
    sender: "d1",
    harmful: ({ victim }) => ({
      event: "task_terminal",
      data: {
        tasks: [
          {
            task_id: victim,
            task_type: "slow",
            payload: {},
            status: "completed",
            result: { forged: true },
            error: null,
            attempts: 1,
            assigned_to: "w1",
            created_at: new Date().toISOString(),
            started_at: null,
            completed_at: new Date().toISOString(),
          },
        ],
      },
    }),
  },
];

/** The refusals each target must count, by reason, for the messages below. */
const EXPECTED: Record<string, number> = {
  bad_signature: 3,
  stale: 1,
  misdirected: 1,
  malformed: 3,
  too_large: 1,
};

async function attackA2A(cluster: ChaosCluster, target: Target, attack: Attack): Promise<void> {
  const url = `${cluster.agent(target.id).url}/a2a`;
  const insider = new A2AClient({ agentId: target.sender, tokenSecret: SECRET, router: null });
  const forger = new A2AClient({ agentId: target.sender, tokenSecret: "not-the-secret", router: null });
  const late = new A2AClient({
    agentId: target.sender,
    tokenSecret: SECRET,
    router: null,
    now: () => Date.now() - 10 * 60_000,
  });
  const { event, data } = target.harmful(attack);
  const event_ = (c: A2AClient, to = target.id) =>
    c.createMessage(to, { event_type: event, event_data: data }, MessageType.EVENT);
  const send = (m: unknown) => post(url, JSON.stringify(m));
  const captured = cluster.agent(target.id).proxy!.captured as A2AMessage[];
  // A real message old enough to have been delivered already (so that sending it again is a replay).
  const delivered = () =>
    captured
      .filter((m) => m.sender === target.sender && Date.parse(m.metadata.timestamp) < Date.now() - 300)
      .at(-1);
  await cluster.waitUntil(
    () => delivered() !== undefined,
    5000,
    `a real message from ${target.sender} to ${target.id}`,
  );
  const real = delivered()!;

  const refusals: Array<[string, Reply, number, string]> = [];
  const expectReply = async (name: string, reply: Promise<Reply>, status: number, reason: string) =>
    refusals.push([name, await reply, status, reason]);

  await expectReply("forged (wrong key)", send(event_(forger)), 401, "bad_signature");
  await expectReply("unsigned", send({ ...event_(insider), signature: "" }), 401, "bad_signature");
  const tampered = structuredClone(real);
  tampered.payload = { ...tampered.payload, event_type: event, event_data: data };
  await expectReply("tampered (real message, payload changed)", send(tampered), 401, "bad_signature");
  await expectReply("stale (10 minutes old)", send(event_(late)), 401, "stale");
  await expectReply("misdirected", send(event_(insider, "someone-else")), 421, "misdirected");
  const whole = JSON.stringify(event_(insider));
  await expectReply("truncated", post(url, whole.slice(0, whole.length >> 1)), 400, "malformed");
  await expectReply("not a message", send({ hello: "world" }), 400, "malformed");
  await expectReply(
    "wrong content type",
    post(url, whole, { "content-type": "text/plain" }),
    415,
    "malformed",
  );
  await expectReply("oversized (2 MiB)", post(url, Buffer.alloc(2 * 1024 * 1024, 0x20)), 413, "too_large");
  for (const [name, reply, status, reason] of refusals) {
    expect(reply.status, `${target.id}: ${name}`).toBe(status);
    expect(reply.body, `${target.id}: ${name}`).toContain(reason);
  }
  // A replay of real traffic is acknowledged as a duplicate and handled no second time.
  const replay = await send(real);
  expect(replay.status, `${target.id}: replayed`).toBe(202);
  expect(JSON.parse(replay.body).payload.duplicates).toEqual([real.metadata.request_id]);
  await Promise.all([insider.close(), forger.close(), late.close()]);
}

async function attackApi(cluster: ChaosCluster): Promise<void> {
  const url = `${cluster.coordinator.url}/tasks`;
  const auth = { authorization: `Bearer ${API_TOKEN}` };
  const cases: Array<[string, Promise<Reply>, number, string]> = [
    ["no token", post(url, JSON.stringify({ task_type: "slow" })), 401, "ERR_UNAUTHORIZED"],
    ["wrong token", post(url, "{}", { authorization: "Bearer nope" }), 401, "ERR_UNAUTHORIZED"],
    ["malformed JSON", post(url, '{"task_type": "slow",', auth), 400, "ERR_MALFORMED_JSON"],
    ["no task_type", post(url, JSON.stringify({ payload: {} }), auth), 422, "ERR_INVALID_TASK"],
    [
      "unknown field",
      post(url, JSON.stringify({ task_type: "slow", evil: 1 }), auth),
      422,
      "ERR_INVALID_TASK",
    ],
    [
      "task id with whitespace",
      post(url, JSON.stringify({ task_id: "a b", task_type: "slow" }), auth),
      422,
      "ERR_INVALID_TASK",
    ],
    [
      "payload not an object",
      post(url, JSON.stringify({ task_type: "slow", payload: [1] }), auth),
      422,
      "ERR_INVALID_TASK",
    ],
    [
      "one bad task in a batch",
      post(url, JSON.stringify([{ task_id: "api-ok", task_type: "slow" }, { task_type: 7 }]), auth),
      422,
      "ERR_INVALID_TASK",
    ],
    ["empty batch", post(url, "[]", auth), 422, "ERR_INVALID_TASK"],
    [
      "oversized body",
      post(url, JSON.stringify({ task_type: "slow", payload: { x: "a".repeat(2 << 20) } }), auth),
      413,
      "ERR_BODY_TOO_LARGE",
    ],
  ];
  for (const [name, reply, status, code] of cases) {
    const r = await reply;
    expect(r.status, `API: ${name}`).toBe(status);
    expect(r.body, `API: ${name}`).toContain(code);
  }
  const get = (path: string, headers = auth) => fetch(`${cluster.coordinator.url}${path}`, { headers });
  expect((await get("/tasks/forged-task")).status).toBe(404);
  expect((await get("/tasks/x?wait=-5")).status).toBe(400);
  expect((await get("/tasks?status=bogus")).status).toBe(400);
  expect((await fetch(url, { method: "DELETE", headers: auth })).status).toBe(405);
}

export const hostileInput: Scenario = {
  title:
    "hostile input to every agent: forged, tampered, replayed, stale, truncated, oversized — refused, counted, harmless",
  name: "hostile input (A2A + API)",
  timeoutMs: { short: 120_000, long: 300_000 },
  run: (ctx) => {
    let hostile = 0;
    return runScenario(
      ctx,
      "hostile input (A2A + API)",
      {
        // Triad's own timing in the short run too: nothing here is killed or paused, so no
        // detection is timed, and it ends asserting that no agent was declared dead. FAST's 1 s of
        // silence is within what a loaded 2-core machine (two scenarios at a time) leaves a process.
        timing: DEFAULT_TIMING,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }] },
        proxies: {}, // pass-through: they only capture real traffic to replay and tamper with
      },
      async (cluster) => {
        await cluster.load(40, 200, (i) => slowTask("hi", i, 20));
        await cluster.settle(20_000);
        // A task that runs through the whole attack: the forged results go after it.
        await cluster.submit([slowTask("hi-victim", 0, 4000)]);
        const dispatched = await cluster.waitForOp("dispatched", { task_id: "hi-victim-0" }, 0, 10_000);
        const attack = { victim: "hi-victim-0", fence: dispatched.fence! };
        const before = cluster.history().length;
        for (const target of TARGETS) await attackA2A(cluster, target, attack);
        await attackApi(cluster);
        hostile = TARGETS.length * 10 + 14;

        const during = cluster.history().slice(before);
        // Counted by reason, once each, by the agent that refused them.
        for (const target of TARGETS) {
          const refused = during.filter((e) => e.op === "refused" && e.agent === target.id);
          const byReason: Record<string, number> = {};
          for (const e of refused) byReason[e.reason!] = (byReason[e.reason!] ?? 0) + 1;
          expect(byReason, `refusals counted by ${target.id}`).toEqual(EXPECTED);
        }
        const metrics = await (await fetch(`${cluster.coordinator.url}/metrics`)).text();
        for (const [reason, n] of Object.entries(EXPECTED))
          expect(metrics).toMatch(
            new RegExp(`triad_messages_rejected_total\\{reason="${reason}"[^}]*\\} ${n}\\n`),
          );
        // Nothing changed: no task recorded, none committed but by the real attempt, nothing run that was forged.
        const changed = (e: HistoryEvent) =>
          ["recorded", "committed", "retried", "rejected", "executed"].includes(e.op);
        expect(during.filter(changed).every((e) => e.task_id === "hi-victim-0")).toBe(true);

        // And everything keeps serving.
        await cluster.settle(20_000);
        await cluster.load(40, 200, (i) => slowTask("hi-after", i, 20));
        return { faults: hostile, faultKinds: `${hostile} hostile requests` };
      },
      async (cluster) => {
        const victim = await cluster.finalRecord("hi-victim-0");
        expect(victim?.task).toMatchObject({ status: "completed", result: { n: 0, ok: true } });
        expect(await cluster.finalRecord("forged-task")).toBeNull();
        expect(await cluster.finalRecord("api-ok")).toBeNull();
        expect(cluster.history().some((e) => e.op === "executed" && e.task_id === "forged-task")).toBe(false);
        expect(cluster.history().some((e) => e.op === "dead")).toBe(false);
        for (const a of cluster.agents.values()) expect(a.proc.running).toBe(true);
      },
    );
  },
};
