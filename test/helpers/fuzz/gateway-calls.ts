import fc from "fast-check";
import { type RawAnswer, rawRequest } from "../raw-request.js";
import {
  anyJson,
  BUILTIN_TYPES,
  contentType,
  deepTask,
  hugeDepthText,
  jsonObject,
  shallowJson,
  shortPrinted,
  taskBody,
  taskId,
  taskType,
} from "./inputs.js";
import { answerProblem, describeInput, type FuzzProbe, type TaskBook } from "./invariant.js";
import type { FuzzSystem } from "./system.js";

/**
 * The A2A gateway's JSON-RPC (POST /a2a/jsonrpc) as fuzz input: SendMessage, GetTask and
 * CancelTask with random params, unknown methods, batches, bodies that are not JSON-RPC, odd
 * A2A-Version headers. A SendMessage answered with a task not REJECTED books it as accepted.
 */

const JSONRPC = "/a2a/jsonrpc";

/** The data part of a SendMessage: mostly a Triad task request, sometimes anything. */
const taskData = fc.oneof(
  { weight: 4, arbitrary: fc.record({ task_type: fc.constantFrom(...BUILTIN_TYPES), payload: jsonObject }) },
  {
    weight: 2,
    arbitrary: fc.record({ task_type: taskType, payload: jsonObject }, { requiredKeys: ["task_type"] }),
  },
  { weight: 1, arbitrary: deepTask },
  { weight: 1, arbitrary: taskBody },
  { weight: 1, arbitrary: anyJson },
);

const part = fc.oneof(
  { weight: 4, arbitrary: taskData.map((data) => ({ data, mediaType: "application/json" })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((text) => ({ text })) },
  { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 8 }), shallowJson, { maxKeys: 3 }) },
);

const message = fc
  .record(
    {
      messageId: fc.oneof(fc.uuid(), fc.string({ maxLength: 8 }), fc.constant(""), taskId),
      role: fc.constantFrom("ROLE_USER", "ROLE_USER", "ROLE_AGENT", "user", "", "__proto__"),
      parts: fc.oneof(
        { weight: 5, arbitrary: part.map((p) => [p]) },
        { weight: 1, arbitrary: fc.array(part, { maxLength: 3 }) },
      ),
      contextId: fc.oneof(fc.uuid(), taskId),
      metadata: fc.dictionary(fc.string({ maxLength: 6 }), shallowJson, { maxKeys: 2 }),
    },
    { requiredKeys: ["messageId", "role", "parts"] },
  )
  .chain((m) =>
    // A message naming a task continues it (Triad refuses that): now and then, not always.
    fc.oneof(
      { weight: 6, arbitrary: fc.constant(m) },
      { weight: 1, arbitrary: taskId.map((id) => ({ ...m, taskId: id })) },
    ),
  );

const configuration = fc.record(
  {
    returnImmediately: fc.oneof(
      { weight: 4, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
      { weight: 1, arbitrary: shallowJson },
    ),
    historyLength: fc.oneof(fc.integer({ min: -2, max: 5 }), shallowJson),
    acceptedOutputModes: fc.array(fc.string({ maxLength: 12 }), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

export type Call = {
  body: string;
  contentType: string | undefined;
  auth: boolean;
  sendMessage: boolean;
  version: string | undefined;
};

export const rpc = (method: string, params: unknown, id: unknown = 1) => ({
  jsonrpc: "2.0",
  id,
  method,
  params,
});

const call: fc.Arbitrary<Call> = fc
  .record({
    request: fc.oneof(
      {
        weight: 6,
        arbitrary: fc
          .record({ message, configuration }, { requiredKeys: ["message"] })
          .map((params) => ({ value: rpc("SendMessage", params) as unknown, sendMessage: true })),
      },
      {
        weight: 2,
        arbitrary: fc
          .record({
            method: fc.constantFrom("GetTask", "CancelTask"),
            id: taskId,
            historyLength: shallowJson,
          })
          .map(({ method, id, historyLength }) => ({
            value: rpc(method, { id, historyLength }) as unknown,
            sendMessage: false,
          })),
      },
      {
        weight: 1,
        arbitrary: fc
          .tuple(
            fc.constantFrom(
              "SendMessage",
              "GetTask",
              "CancelTask",
              "ListTasks",
              "SendStreamingMessage",
              "SubscribeToTask",
              "message/send",
              "tasks/get",
              "__proto__",
              "constructor",
              "toString",
              "",
            ),
            anyJson,
            fc.oneof(fc.integer(), fc.string({ maxLength: 6 }), fc.constant(null), shallowJson),
          )
          .map(([method, params, id]) => ({ value: rpc(method, params, id) as unknown, sendMessage: false })),
      },
      {
        weight: 1,
        arbitrary: fc
          .array(
            fc
              .record({ message })
              .map((params) => rpc("SendMessage", { ...params, configuration: { returnImmediately: true } })),
            { minLength: 0, maxLength: 3 },
          )
          .map((value) => ({ value: value as unknown, sendMessage: false })),
      },
      { weight: 1, arbitrary: anyJson.map((value) => ({ value, sendMessage: false })) },
    ),
    raw: fc.oneof(
      { weight: 12, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: hugeDepthText },
      { weight: 1, arbitrary: fc.string({ maxLength: 30 }) },
    ),
    contentType,
    auth: fc.oneof(
      { weight: 10, arbitrary: fc.constant(true) },
      { weight: 1, arbitrary: fc.constant(false) },
    ),
    version: fc.oneof(
      { weight: 10, arbitrary: fc.constant<string | undefined>("1.0") },
      { weight: 1, arbitrary: fc.constantFrom(undefined, "0.3", "", "99", "__proto__") },
    ),
  })
  .map(({ request, raw, contentType, auth, version }) =>
    shortPrinted({
      body: raw ?? JSON.stringify(request.value) ?? "null",
      sendMessage: raw === undefined && request.sendMessage,
      contentType,
      auth,
      version,
    }),
  );

export function sendCall(system: FuzzSystem, c: Call): Promise<RawAnswer> {
  const headers: Record<string, string> = {};
  if (c.contentType !== undefined) headers["content-type"] = c.contentType;
  if (c.auth) headers.authorization = `Bearer ${system.apiToken}`;
  if (c.version !== undefined) headers["a2a-version"] = c.version;
  // A SendMessage that blocks may take as long as its task: give it the bound and more.
  return rawRequest(
    system.coordinatorPort,
    { method: "POST", target: JSONRPC, headers, body: c.body },
    25_000,
  );
}

/** Books the task a SendMessage answer describes: accepted unless the gateway rejected it. */
export function bookCall(book: TaskBook, c: Call, answer: RawAnswer): void {
  if (!c.sendMessage || answer.status !== 200) return;
  let reply: { result?: { task?: { id?: string; status?: { state?: string } } } & { id?: string } };
  try {
    reply = JSON.parse(answer.body);
  } catch {
    return;
  }
  const task = reply.result?.task ?? reply.result;
  const id = task?.id;
  const state = (task as { status?: { state?: string } } | undefined)?.status?.state;
  if (typeof id !== "string" || typeof state !== "string") return;
  if (state === "TASK_STATE_REJECTED") book.refuse(id, describeInput(c.body, 200));
  else book.accept(id, describeInput(c.body, 200));
}

export const gatewayCalls: FuzzProbe<Call> = {
  arbitrary: () => call,
  async send(system, book, c) {
    const answer = await sendCall(system, c);
    if (process.env.FUZZ_DEBUG)
      console.log("RPC", answer.status, fc.stringify(c).slice(0, 200), answer.body.slice(0, 200));
    bookCall(book, c, answer);
    const problem = answerProblem(answer);
    return problem === null ? [] : [`JSON-RPC ${fc.stringify(c)}: ${problem}`];
  },
};
