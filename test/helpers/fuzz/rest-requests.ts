import fc from "fast-check";
import { type RawAnswer, rawRequest } from "../raw-request.js";
import {
  anyJson,
  contentType,
  hugeDepthText,
  key,
  shortPrinted,
  sizedBody,
  type TaskRef,
  taskBody,
  taskRef,
} from "./inputs.js";
import { answerProblem, describeInput, type FuzzProbe, type TaskBook } from "./invariant.js";
import type { FuzzSystem } from "./system.js";

/**
 * The coordinator's REST API as fuzz input: POST /tasks with one task or an array of any shape,
 * depth, keys, ids, types and content types; GET /tasks/:id, the task list, cancel, /agents and
 * /metrics with awkward ids and queries. A 2xx to a POST books its tasks as accepted, a 4xx
 * books the ids it carried as refused.
 */

export type ApiRequest =
  | {
      kind: "post";
      body: string;
      sentIds: string[];
      contentType: string | undefined;
      auth: Auth;
      origin: boolean;
    }
  | { kind: "get"; id: TaskRef; raw: boolean; wait: string | undefined }
  | { kind: "cancel"; id: TaskRef; raw: boolean; auth: Auth }
  | { kind: "resubmit"; id: TaskRef; body: Record<string, unknown> }
  | { kind: "list"; query: string }
  | { kind: "agents" | "metrics" };
export type Auth = "token" | "none" | "wrong";

const auth = fc.oneof(
  { weight: 10, arbitrary: fc.constant<Auth>("token") },
  { weight: 1, arbitrary: fc.constantFrom<Auth>("none", "wrong") },
);
const idsOf = (bodies: unknown[]) =>
  bodies.flatMap((b) => {
    const id = (b as { task_id?: unknown } | null)?.task_id;
    return typeof id === "string" ? [id] : [];
  });

const postRequest: fc.Arbitrary<ApiRequest> = fc
  .record({
    shape: fc.oneof(
      { weight: 5, arbitrary: taskBody.map((b) => ({ body: JSON.stringify(b), sentIds: idsOf([b]) })) },
      {
        weight: 3,
        arbitrary: fc
          .array(taskBody, { maxLength: 6 })
          .map((bs) => ({ body: JSON.stringify(bs), sentIds: idsOf(bs) })),
      },
      { weight: 1, arbitrary: hugeDepthText.map((body) => ({ body, sentIds: [] as string[] })) },
      {
        weight: 1,
        arbitrary: sizedBody.map((b) => ({
          body: JSON.stringify(b),
          sentIds: idsOf(Array.isArray(b) ? b : [b]),
        })),
      },
      {
        weight: 1,
        arbitrary: fc.string({ maxLength: 40 }).map((body) => ({ body, sentIds: [] as string[] })),
      },
      {
        weight: 1,
        arbitrary: anyJson.map((v) => ({ body: JSON.stringify(v) ?? "null", sentIds: [] as string[] })),
      },
    ),
    contentType,
    auth,
    origin: fc.boolean(),
  })
  .map(({ shape, contentType, auth, origin }) => ({
    kind: "post" as const,
    ...shape,
    contentType,
    auth,
    origin,
  }));

const apiRequest: fc.Arbitrary<ApiRequest> = fc
  .oneof(
    { weight: 6, arbitrary: postRequest },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant("get" as const),
        id: taskRef,
        raw: fc.boolean(),
        wait: fc.option(fc.constantFrom("0", "50", "-1", "1e9", "NaN", "%zz", "__proto__"), {
          nil: undefined,
        }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ kind: fc.constant("cancel" as const), id: taskRef, raw: fc.boolean(), auth }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant("resubmit" as const),
        id: fc.nat({ max: 20 }).map((recent) => ({ recent })),
        body: taskBody.map(
          (b) =>
            (typeof b === "object" && b !== null && !Array.isArray(b) ? b : {}) as Record<string, unknown>,
        ),
      }),
    },
    {
      weight: 1,
      arbitrary: fc
        .tuple(
          fc.constantFrom(
            "pending",
            "in_progress",
            "completed",
            "failed",
            "abandoned",
            "__proto__",
            "%zz",
            "",
            "toString",
          ),
          fc.constantFrom("", "5", "-1", "1e309", "abc", "100000"),
          key,
        )
        .map(([status, limit, extra]) => ({
          kind: "list" as const,
          query: `status=${status}&limit=${limit}&${encodeURIComponent(extra)}=1`,
        })),
    },
    { weight: 1, arbitrary: fc.constantFrom({ kind: "agents" as const }, { kind: "metrics" as const }) },
  )
  .map((r) => shortPrinted({ ...r }));

/** An id as it goes into a path: encoded, or as is with only what would break the request line escaped. */
function idInPath(id: string, raw: boolean): string {
  return raw
    ? [...id].map((c) => (c > " " && c < "\u007f" ? c : encodeURIComponent(c))).join("")
    : encodeURIComponent(id);
}

export function headersFor(
  system: FuzzSystem,
  auth: Auth,
  extra: Record<string, string> = {},
): Record<string, string> {
  const h: Record<string, string> = { ...extra };
  if (auth === "token") h.authorization = `Bearer ${system.apiToken}`;
  if (auth === "wrong") h.authorization = "Bearer not-the-token";
  return h;
}

function sendRequest(
  system: FuzzSystem,
  book: TaskBook,
  r: Exclude<ApiRequest, { kind: "resubmit" }>,
): Promise<RawAnswer> {
  const port = system.coordinatorPort;
  switch (r.kind) {
    case "post": {
      const extra: Record<string, string> = {};
      if (r.contentType !== undefined) extra["content-type"] = r.contentType;
      if (r.origin) extra.origin = system.coordinatorUrl;
      return rawRequest(port, {
        method: "POST",
        target: "/tasks",
        headers: headersFor(system, r.auth, extra),
        body: r.body,
      });
    }
    case "get": {
      const query = r.wait === undefined ? "" : `?wait=${r.wait}`;
      return rawRequest(port, {
        method: "GET",
        target: `/tasks/${idInPath(book.resolve(r.id), r.raw)}${query}`,
        headers: headersFor(system, "token"),
      });
    }
    case "cancel":
      return rawRequest(port, {
        method: "POST",
        target: `/tasks/${idInPath(book.resolve(r.id), r.raw)}/cancel`,
        headers: headersFor(system, r.auth, { "content-type": "application/json" }),
        body: "",
      });
    case "list":
      return rawRequest(port, {
        method: "GET",
        target: `/tasks?${r.query}`,
        headers: headersFor(system, "token"),
      });
    case "agents":
      return rawRequest(port, { method: "GET", target: "/agents", headers: headersFor(system, "token") });
    case "metrics":
      return rawRequest(port, { method: "GET", target: "/metrics" });
  }
}

/** Books what a POST /tasks answer says about the tasks it carried. */
function bookPost(book: TaskBook, r: Extract<ApiRequest, { kind: "post" }>, answer: RawAnswer): void {
  const what = describeInput(r.body, 200);
  if (answer.status >= 200 && answer.status < 300) {
    type Item = { task_id?: string; status?: string };
    const body = JSON.parse(answer.body) as Item & { tasks?: Item[] };
    const items = body.tasks ?? [body];
    for (const item of items) {
      if (typeof item.task_id === "string" && typeof item.status === "string")
        book.accept(item.task_id, what);
      else if (typeof item.task_id === "string") book.refuse(item.task_id, what);
    }
  } else {
    for (const id of r.sentIds) book.refuse(id, `${answer.status}: ${what}`);
  }
}

/** A task submitted again under the id of one already accepted (a client retrying, or not). */
function resubmission(
  book: TaskBook,
  r: Extract<ApiRequest, { kind: "resubmit" }>,
): Extract<ApiRequest, { kind: "post" }> {
  const id = book.resolve(r.id);
  return {
    kind: "post",
    body: JSON.stringify({ ...r.body, task_id: id }),
    sentIds: [id],
    contentType: "application/json",
    auth: "token",
    origin: false,
  };
}

export const restRequests: FuzzProbe<ApiRequest> = {
  arbitrary: () => apiRequest,
  async send(system, book, input) {
    const r = input.kind === "resubmit" ? resubmission(book, input) : input;
    const answer = await sendRequest(system, book, r);
    if (process.env.FUZZ_DEBUG) {
      console.log("REST", answer.status, fc.stringify(input).slice(0, 200), answer.body.slice(0, 200));
    }
    if (r.kind === "post") bookPost(book, r, answer);
    const problem = answerProblem(answer);
    return problem === null ? [] : [`REST ${fc.stringify(input)}: ${problem}`];
  },
};
