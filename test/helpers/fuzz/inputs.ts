import fc from "fast-check";

/**
 * What a hostile client sends, as fast-check arbitraries: JSON of any shape and depth, keys that
 * collide with Object.prototype, ids and task types that are awkward in a URL, content types and
 * request targets node's own client would never produce. Shared by every fuzz suite.
 */

/** How many runs a property gets: small in `npm test`, long under `npm run chaos` (CHAOS_LONG) or FUZZ_RUNS. */
export function fuzzRuns(small: number, long = small * 20): number {
  const given = Number(process.env.FUZZ_RUNS);
  if (Number.isInteger(given) && given > 0) return given;
  return process.env.CHAOS_LONG ? long : small;
}

/** A property's time limit: five minutes, or ~1.5 s a run when FUZZ_RUNS asks for many. */
export function fuzzTimeout(runs: number, msPerRun = 1500): number {
  return Math.max(300_000, runs * msPerRun);
}

/**
 * fast-check parameters: a fixed seed unless FUZZ_SEED says otherwise ("random" for a new one
 * each time). fast-check prints the seed and path of a failure, so any run can be replayed.
 */
export function fuzzParams(runs: number): fc.Parameters<unknown> {
  const given = process.env.FUZZ_SEED;
  const seed = given === "random" ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(given ?? 21);
  if (given === "random") console.log(`fuzz: FUZZ_SEED=${seed} replays this run`);
  return {
    numRuns: runs,
    seed: Number.isFinite(seed) ? seed : 21,
    // A failure is reported at once; shrinking (which replays against a live cluster) on request.
    endOnFailure: process.env.FUZZ_SHRINK !== "1",
    verbose: 1,
  };
}

/** Keys with a meaning to JavaScript objects, unicode, the empty string. */
export const HOSTILE_KEYS = [
  "__proto__",
  "constructor",
  "prototype",
  "toString",
  "valueOf",
  "hasOwnProperty",
  "isPrototypeOf",
  "__defineGetter__",
  "then",
  "",
  " ",
  "\u0000",
  "é",
  "🙂",
  "\u202e",
  "a".repeat(300),
];

export const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 3, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
);

const leaf = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.string({ unit: "grapheme", maxLength: 8 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(...HOSTILE_KEYS),
);

/** A JSON value of a random shape, shallow (what most inputs look like). */
export const shallowJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(key, tie("value"), { maxKeys: 4 }),
  ),
})).value;

/** Wraps `inner` in `depth` levels of arrays or objects (chosen by `kinds`, repeated). */
export function nest(inner: unknown, depth: number, kinds: boolean[], k = "a"): unknown {
  let v = inner;
  for (let i = 0; i < depth; i++) v = kinds[i % kinds.length] ? [v] : { [k]: v };
  return v;
}

/** A JSON value nested 1–250 levels, the band the 64-level wire limit cuts through. */
export const deepJson: fc.Arbitrary<unknown> = fc
  .tuple(
    fc.integer({ min: 1, max: 250 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
    shallowJson,
    fc.constantFrom("a", "__proto__", "constructor", ""),
  )
  .map(([depth, kinds, inner, k]) => nest(inner, depth, kinds, k));

/** JSON of any shape: mostly shallow, sometimes deep. */
export const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: shallowJson },
  { weight: 1, arbitrary: deepJson },
);

/** A JSON object (what a payload must be). */
export const jsonObject: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  { weight: 4, arbitrary: fc.dictionary(key, shallowJson, { maxKeys: 5 }) },
  { weight: 1, arbitrary: deepJson.map((v) => ({ deep: v })) },
);

/** Text nesting 10k+ levels: no JSON.stringify of ours could build it without overflowing. */
export const hugeDepthText = fc
  .tuple(fc.integer({ min: 10_000, max: 40_000 }), fc.constantFrom("[", '{"a":'), fc.boolean())
  .map(([depth, open, wrapAsTask]) => {
    const close = open === "[" ? "]" : "}";
    const deep = `${open.repeat(depth)}1${close.repeat(depth)}`;
    return wrapAsTask ? `{"task_type":"echo","payload":{"x":${deep}}}` : deep;
  });

/** Task ids that are awkward in a URL path or a log line, and ordinary ones. */
export const HOSTILE_IDS = [
  ".",
  "..",
  "...",
  "%zz",
  "%",
  "%2e",
  "%2F",
  "a/b",
  "/",
  "a b",
  " ",
  "\t",
  "a\nb",
  "?",
  "#",
  "a?b=c",
  "__proto__",
  "constructor",
  "toString",
  "é",
  "🙂",
  "\u202e",
  "",
  "x".repeat(201),
];

export const taskId = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_IDS) },
  { weight: 2, arbitrary: fc.string({ minLength: 1, maxLength: 16 }) },
  { weight: 3, arbitrary: fc.uuid() },
);

/** A task id, or "the n-th most recently accepted task" (resolved when sent: TaskBook.pick). */
export type TaskRef = string | { recent: number };
export const taskRef: fc.Arbitrary<TaskRef> = fc.oneof(
  { weight: 1, arbitrary: taskId },
  { weight: 1, arbitrary: fc.nat({ max: 20 }).map((recent) => ({ recent })) },
);

export const BUILTIN_TYPES = ["echo", "compute", "data_processing", "generic"];
export const HOSTILE_TYPES = [
  "__proto__",
  "constructor",
  "toString",
  "hasOwnProperty",
  "valueOf",
  "prototype",
  "nope",
  "",
  " ",
  ".",
  "..",
  "%zz",
  "a/b",
  "é",
  "x".repeat(201),
];

/** A built-in task type with a payload that may or may not suit it. */
const builtinTask = fc.oneof(
  fc.record({ task_type: fc.constantFrom(...BUILTIN_TYPES), payload: jsonObject }),
  fc.record({
    task_type: fc.constant("compute"),
    payload: fc.record({
      operation: fc.constantFrom(
        "sum",
        "mean",
        "min",
        "max",
        "product",
        "constructor",
        "toString",
        "__proto__",
      ),
      values: fc.oneof(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 20 }),
        fc.array(shallowJson, { maxLength: 5 }),
      ),
    }),
  }),
  fc.record({
    task_type: fc.constant("data_processing"),
    payload: fc.record({
      data: fc.array(fc.dictionary(key, shallowJson, { maxKeys: 3 }), { maxLength: 6 }),
      operations: fc.array(
        fc.record({
          op: fc.constantFrom(
            "filter",
            "map",
            "sort",
            "dedupe",
            "group",
            "limit",
            "constructor",
            "__proto__",
          ),
          field: key,
          by: key,
          count: fc.integer({ min: -2, max: 10 }),
          aggregate: fc.dictionary(
            key,
            fc.record({ op: fc.constantFrom("count", "sum", "mean", "min", "max", "toString"), field: key }),
            { maxKeys: 2 },
          ),
        }),
        { maxLength: 3 },
      ),
    }),
  }),
  fc.record({
    task_type: fc.constant("sleep"),
    payload: fc.record({ ms: fc.integer({ min: -5, max: 100 }) }),
  }),
);

export const taskType = fc.oneof(
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_TYPES) },
  { weight: 3, arbitrary: fc.constantFrom(...BUILTIN_TYPES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
);

/** A well-formed task whose payload nests 50–250 levels: past the wire's 64-level limit, mostly. */
export const deepTask = fc
  .tuple(
    fc.constantFrom(...BUILTIN_TYPES),
    fc.integer({ min: 50, max: 250 }),
    fc.array(fc.boolean(), { minLength: 1, maxLength: 3 }),
    shallowJson,
  )
  .map(([task_type, depth, kinds, inner]) => ({ task_type, payload: { deep: nest(inner, depth, kinds) } }));

/** A body for POST /tasks: a well-formed task, a task with hostile parts, or any JSON at all. */
export const taskBody: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 4, arbitrary: builtinTask },
  { weight: 1, arbitrary: deepTask },
  { weight: 1, arbitrary: fc.record({ task_type: fc.constantFrom(...HOSTILE_TYPES), payload: jsonObject }) },
  {
    weight: 3,
    arbitrary: fc.record(
      { task_id: taskId, task_type: taskType, payload: fc.oneof(jsonObject, anyJson) },
      { requiredKeys: ["task_type"] },
    ),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(builtinTask, key, shallowJson)
      .map(([t, k, v]) =>
        JSON.parse(`{${JSON.stringify(k)}:${JSON.stringify(v)},${JSON.stringify(t).slice(1)}`),
      ),
  },
  { weight: 1, arbitrary: anyJson },
);

/** Bodies for POST /tasks of awkward sizes: big batches, repeated ids, a payload near or over 1 MiB. */
export const sizedBody: fc.Arbitrary<unknown> = fc.oneof(
  fc
    .integer({ min: 50, max: 3000 })
    .map((n) => Array.from({ length: n }, (_, i) => ({ task_type: "echo", payload: { i } }))),
  fc
    .tuple(fc.constantFrom(...HOSTILE_IDS, "same-id"), fc.integer({ min: 2, max: 4 }), taskBody)
    .map(([id, n, t]) => Array.from({ length: n }, () => ({ ...(t as object), task_id: id }))),
  fc
    .integer({ min: 900_000, max: 1_100_000 })
    .map((size) => ({ task_type: "echo", payload: { blob: "x".repeat(size) } })),
);

/** Content types a POST may claim. */
export const contentType = fc.oneof(
  { weight: 14, arbitrary: fc.constant("application/json") },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      "application/json; charset=utf-8",
      "APPLICATION/JSON",
      "text/plain",
      "text/plain;charset=UTF-8",
      "application/x-www-form-urlencoded",
      "multipart/form-data; boundary=x",
      "application/jsonx",
      "",
      "*/*",
    ),
  },
  { weight: 1, arbitrary: fc.constant(undefined) },
);

/** Request targets node's http client refuses to send, and some it would. */
export const REQUEST_TARGETS = [
  "//[/",
  "http://[::1/",
  "http:///",
  "http://a:99999/x",
  "http://[::1]:80/tasks",
  "//",
  "///tasks",
  "*",
  "/tasks/%zz",
  "/tasks/%zz/cancel",
  "/tasks/%",
  "/tasks/.",
  "/tasks/..",
  "/tasks/%2e%2e",
  "/tasks/%2e",
  "/tasks?status=%zz",
  "/tasks?status=__proto__",
  "/tasks?limit=-1&status=pending",
  "/a2a/jsonrpc/..",
  "/.well-known/agent-card.json?%zz",
  "/a2a?%",
  "/dashboard/../../etc/passwd",
  "/dashboard/%2e%2e/%2e%2e/package.json",
  "/\u00e9",
  "/tasks/\u0000",
  "/",
  "/a2a",
  "/a2a/jsonrpc",
  "/.well-known/agent-card.json",
  "/dashboard/state",
  "/agents",
  "/metrics",
  "/tasks",
];

export const requestTarget = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...REQUEST_TARGETS) },
  {
    weight: 1,
    arbitrary: fc
      .uint8Array({ minLength: 1, maxLength: 24 })
      // Raw bytes, but no CR/LF/space (those end the request line: a different test).
      .map((b) => `/${Buffer.from(b.filter((x) => x !== 13 && x !== 10 && x !== 32)).toString("latin1")}`),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 16 }).map((s) => `/tasks/${s.replace(/[\r\n ]/g, "")}`) },
);

export const method = fc.constantFrom("GET", "POST", "PUT", "DELETE", "OPTIONS", "HEAD", "PATCH", "BREW");

/** Gives a generated value a short printed form (fast-check prints it in a counterexample). */
export function shortPrinted<T extends object>(value: T, max = 400): T {
  return Object.assign(value, {
    [fc.toStringMethod]: () => {
      const text = JSON.stringify(value, (_k, v) =>
        typeof v === "string" && v.length > 120 ? `${v.slice(0, 120)}… (${v.length} chars)` : v,
      );
      return text.length > max ? `${text.slice(0, max)}…` : text;
    },
  });
}
