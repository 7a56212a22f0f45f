import fc from "fast-check";
import { A2AClient, type A2AMessage, MessageType } from "../../../src/index.js";
import { type RawAnswer, rawRequest } from "../raw-request.js";
import {
  anyJson,
  contentType,
  hugeDepthText,
  jsonObject,
  key,
  shallowJson,
  shortPrinted,
  taskId,
} from "./inputs.js";
import { answerProblem, type FuzzProbe, type TaskBook } from "./invariant.js";
import type { FuzzSystem } from "./system.js";

/**
 * Bodies for the agents' signed POST /a2a as fuzz input: any JSON, arrays, text, bodies nested
 * past any limit, forged (wrong secret), unsigned, tampered and replayed messages, and messages
 * correctly signed with the deployment's secret by the real signing code, carrying random
 * payloads of the protocol's kinds, to any tier. No message can submit a task: nothing is booked.
 */

const KINDS = [
  "register_worker",
  "register_distributor",
  "worker_status",
  "distributor_status",
  "execute_tasks",
  "task_results",
  "results_ack",
  "assign_tasks",
  "task_terminal",
  "checkpoint",
  "__proto__",
  "constructor",
  "toString",
];
const TYPES = Object.values(MessageType) as string[];
/** A string in a payload that stands for the n-th most recently accepted task's id. */
const RECENT = "@recent:";

/** The payload with every RECENT reference replaced by a real task id from the book. */
function withRealIds(book: TaskBook, payload: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(payload, (_k, v) =>
    typeof v === "string" && v.startsWith(RECENT)
      ? book.resolve({ recent: Number(v.slice(RECENT.length)) })
      : v,
  );
  return JSON.parse(text) as Record<string, unknown>;
}

/** A payload that names one of the protocol's kinds (or a hostile one) with random fields. */
const payload: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.tuple(fc.constantFrom(...KINDS), jsonObject).map(([kind, rest]) => ({ ...rest, kind })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({
        kind: fc.constantFrom("task_results", "results_ack", "checkpoint"),
        // Often a task that really is in the ledger: a result or ack for it from whoever signs.
        task_id: fc.oneof(
          taskId,
          fc.nat({ max: 20 }).map((n) => `${RECENT}${n}`),
        ),
        fence: fc.oneof(fc.integer({ min: -2, max: 5 }), shallowJson),
        status: fc.constantFrom("completed", "failed", "__proto__"),
        result: shallowJson,
        checkpoint: shallowJson,
      })
      .map(({ kind, task_id, fence, status, result, checkpoint }) =>
        kind === "task_results"
          ? { kind, results: [{ task_id, fence, status, result }] }
          : kind === "results_ack"
            ? { kind, acks: [{ task_id, fence }] }
            : { kind, task_id, fence, checkpoint },
      ),
  },
  { weight: 1, arbitrary: jsonObject },
);

type Recipe =
  | { kind: "raw"; text: string }
  | { kind: "json"; value: unknown }
  | {
      kind: "message";
      how: "signed" | "forged" | "unsigned" | "tampered" | "replayed";
      sender: string;
      toTarget: boolean;
      type: string;
      payload: Record<string, unknown>;
    };

export type A2APost = { target: number; recipes: Recipe[]; batch: boolean; contentType: string | undefined };

const sender = (system: FuzzSystem) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...system.agents.map((a) => a.id)) },
    {
      weight: 1,
      arbitrary: fc.oneof(fc.string({ minLength: 1, maxLength: 10 }), fc.constantFrom("__proto__", "..")),
    },
  );

const recipe = (system: FuzzSystem): fc.Arbitrary<Recipe> =>
  fc.oneof(
    {
      weight: 5,
      arbitrary: fc.record({
        kind: fc.constant("message" as const),
        how: fc.constantFrom("signed", "signed", "signed", "forged", "unsigned", "tampered", "replayed"),
        sender: sender(system),
        toTarget: fc.oneof(
          { weight: 6, arbitrary: fc.constant(true) },
          { weight: 1, arbitrary: fc.constant(false) },
        ),
        type: fc.oneof({ weight: 5, arbitrary: fc.constantFrom(...TYPES) }, { weight: 1, arbitrary: key }),
        payload,
      }),
    },
    { weight: 2, arbitrary: anyJson.map((value) => ({ kind: "json" as const, value })) },
    { weight: 1, arbitrary: hugeDepthText.map((text) => ({ kind: "raw" as const, text })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 30 }).map((text) => ({ kind: "raw" as const, text })) },
  );

export const post = (system: FuzzSystem): fc.Arbitrary<A2APost> =>
  fc
    .record({
      target: fc.integer({ min: 0, max: system.agents.length - 1 }),
      recipes: fc.array(recipe(system), { minLength: 1, maxLength: 4 }),
      batch: fc.boolean(),
      contentType,
    })
    .map((p) => shortPrinted({ ...p }));

/** Signing clients, one per sender and secret (they never listen). */
const signers = new Map<string, A2AClient>();
function signer(agentId: string, secret: string): A2AClient {
  const k = `${agentId}\u0000${secret}`;
  let client = signers.get(k);
  if (client === undefined) {
    client = new A2AClient({ agentId, tokenSecret: secret, router: null });
    signers.set(k, client);
  }
  return client;
}

/** The bytes a recipe becomes, built by the real signing code; null when it refuses to build one. */
function build(system: FuzzSystem, book: TaskBook, r: Recipe, recipient: string): unknown | null {
  if (r.kind === "json") return r.value;
  if (r.kind === "raw") return { raw: r.text };
  const secret = r.how === "forged" ? "a-guessed-secret" : system.secret;
  let m: A2AMessage;
  try {
    m = signer(r.sender, secret).createMessage(
      r.toTarget ? recipient : "someone-else",
      withRealIds(book, r.payload) as A2AMessage["payload"],
      r.type as MessageType,
    );
  } catch {
    return null; // the library refuses to sign what it could not send (too deep, bad type): fine
  }
  if (r.how === "unsigned") return { ...m, signature: undefined };
  if (r.how === "tampered") return { ...m, payload: { ...m.payload, tampered: true } };
  return m;
}

/** The texts of a post's recipes as sent (JSON, or the raw text), for its target agent. */
export function textsOf(system: FuzzSystem, book: TaskBook, p: A2APost): string[] {
  const agent = system.agents[p.target]!;
  return p.recipes
    .map((r) => build(system, book, r, agent.id))
    .filter((v) => v !== null)
    .map((v) =>
      typeof v === "object" && v !== null && "raw" in v
        ? String((v as { raw: string }).raw)
        : JSON.stringify(v),
    );
}

async function sendPost(system: FuzzSystem, book: TaskBook, p: A2APost): Promise<RawAnswer[]> {
  const agent = system.agents[p.target]!;
  const texts = textsOf(system, book, p);
  if (texts.length === 0) return [];
  const bodies = p.batch ? [`[${texts.join(",")}]`] : texts;
  const headers: Record<string, string> = {};
  if (p.contentType !== undefined) headers["content-type"] = p.contentType;
  const answers: RawAnswer[] = [];
  for (const body of bodies) {
    answers.push(await rawRequest(agent.port, { method: "POST", target: "/a2a", headers, body }));
    // A replayed message goes out twice: the second must be refused, never acted on again.
    if (p.recipes.some((r) => r.kind === "message" && r.how === "replayed")) {
      answers.push(await rawRequest(agent.port, { method: "POST", target: "/a2a", headers, body }));
    }
  }
  return answers;
}

export const signedBodies: FuzzProbe<A2APost> = {
  arbitrary: (system) => post(system),
  async send(system, book, p) {
    const problems: string[] = [];
    for (const answer of await sendPost(system, book, p)) {
      if (process.env.FUZZ_DEBUG)
        console.log("A2A", answer.status, fc.stringify(p).slice(0, 200), answer.body.slice(0, 200));
      const problem = answerProblem(answer);
      if (problem !== null) problems.push(`POST /a2a ${fc.stringify(p)}: ${problem}`);
    }
    return problems;
  },
};

/**
 * The same bodies, with `n` innocent tasks submitted through the REST API before each run's
 * first one (sleeping a moment, so that they are in flight while the messages, some naming them,
 * arrive): they must still end.
 */
export function signedBodiesBesideTasks(n: number): FuzzProbe<A2APost> {
  return {
    ...signedBodies,
    async beforeRun(system, book) {
      const res = await fetch(`${system.coordinatorUrl}/tasks`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${system.apiToken}` },
        body: JSON.stringify(
          Array.from({ length: n }, (_, i) => ({ task_type: "sleep", payload: { ms: 300, innocent: i } })),
        ),
      });
      if (res.status !== 202) throw new Error(`innocent tasks refused: ${res.status} ${await res.text()}`);
      for (const t of ((await res.json()) as { tasks: Array<{ task_id: string }> }).tasks) {
        book.accept(t.task_id, "an innocent sleep task");
      }
    },
  };
}

/** Closes the signing clients (they hold HTTP agents). */
export async function closeSigners(): Promise<void> {
  for (const client of signers.values()) await client.close();
  signers.clear();
}
