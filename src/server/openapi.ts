import { readFileSync } from "node:fs";
import { z } from "zod";
import { SCHEDULE_PAGE_BYTES } from "../agents/schedules/schedule-spec.js";
import type { JsonObject } from "../core/json.js";
import { MAX_JSON_DEPTH } from "../core/messaging/plain-json.js";
import { MAX_TASK_TYPE_LENGTH } from "../core/state/task-type.js";
import type { RestRoute } from "./http-api.js";
import {
  listLimit,
  listScope,
  MAX_LIST_LIMIT,
  NAMED_SCHEMAS,
  submitBody,
  taskId,
  waitMs,
} from "./http-schemas.js";
import { DEFAULT_SCHEDULE_PAGE } from "./schedule-routes.js";

export type OpenApiOptions = {
  /** Most tasks in one POST /tasks (maxItems of the array form). */
  maxBatch: number;
  /** Largest body POST /tasks reads. */
  maxBodyBytes: number;
};

const VERSION = (
  JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }
).version;

const ref = (id: string) => ({ $ref: `#/components/schemas/${id}` });

/** What each error code means, for the answers' descriptions. */
const CODES: Record<string, string> = {
  ERR_BAD_REQUEST: "the request target is not a valid URL path",
  ERR_FOREIGN_ORIGIN: "sent by a web page of another site (Origin)",
  ERR_FOREIGN_HOST: "a Host name this server was not bound to, with no API token set (DNS rebinding)",
  ERR_UNAUTHORIZED: "the server has TRIAD_API_TOKEN and the request has not `Authorization: Bearer <it>`",
  ERR_INTERNAL: "a fault of the server",
  ERR_MALFORMED_JSON: "the body is not JSON (or its bytes are not UTF-8)",
  ERR_DUPLICATE_KEY: "an object in the body names a member twice (the message names where)",
  ERR_UNSUPPORTED_MEDIA_TYPE:
    "the body is not sent as application/json in UTF-8 (a charset parameter), or is sent compressed (Content-Encoding)",
  ERR_BODY_TOO_LARGE: "the body is over the size limit",
  ERR_BATCH_TOO_LARGE: "more tasks than one request takes",
  ERR_INVALID_TASK: "a task the schema refuses (the message names the field and the task)",
  ERR_JSON_TOO_DEEP: `the body nests more than ${MAX_JSON_DEPTH} levels`,
  ERR_RESERVED_KEY:
    'the body has a member named "__proto__" (the message names where): it would be lost on the way',
  ERR_SHUTTING_DOWN: "the coordinator is shutting down (send to another or later)",
  ERR_TOO_MANY_STREAMS: "as many event streams are open as this coordinator serves (1,000)",
  ERR_STORE_UNAVAILABLE: "the store cannot be reached now",
  ERR_STORE_TIMEOUT: "the store did not answer in time",
  ERR_NOT_CONNECTED: "the store connection is not up yet",
  ERR_NOT_REPLICATED:
    "fewer Redis replicas than --redis-wait-replicas acknowledged the change in time: the master holds it (a task: send the same id again; an answer: it was taken)",
  ERR_INVALID_TASK_ID:
    "the task id in the path is not valid percent-encoding, or is longer than a task id can be (200 characters)",
  ERR_INVALID_WAIT: "wait is not milliseconds in 0..300000, or is given more than once",
  ERR_INVALID_STATUS: "status is not a task status, or is given more than once",
  ERR_INVALID_LIMIT: "limit is not a positive integer, or is given more than once",
  ERR_INVALID_SCOPE: "scope is not local or cluster, or is given more than once",
  ERR_NOT_FOUND: "no task has this id",
  ERR_TASK_FINISHED: "the task has already finished; it was left as it is",
  ERR_INVALID_INPUT: "a body without `value`, or a value nested too deep (the message names the field)",
  ERR_NOT_WAITING_FOR_INPUT: "the task is not waiting for input (an earlier answer to its request was taken)",
  ERR_INPUT_TOO_LARGE:
    "the task with this input would be larger than a message to a distributor can carry: not given, the task still waits",
  ERR_TOO_MANY_LIMITS:
    "as many task types have a limit as the coordinator's limits.maxLimits (triad coordinator --max-limits; default 1,000): remove one first; changing a type's limit is fine",
  ERR_INVALID_TYPE_LIMIT: "a task-type limit the schema refuses (the message names the field)",
  ERR_INVALID_CURSOR: "cursor is not the next_cursor of a page before, or is given more than once",
  ERR_TOO_MANY_SCHEDULES:
    "there are as many schedules as the coordinator's schedules.maxSchedules (triad coordinator --max-schedules; default 10,000): remove one first; replacing one is fine",
  ERR_INVALID_SCHEDULE:
    "a schedule refused (the message names the field): a bad cron or time zone, both or neither of cron and every_ms, every_ms under 1000",
};

const STORE = ["ERR_STORE_UNAVAILABLE", "ERR_STORE_TIMEOUT", "ERR_NOT_CONNECTED"];

type Errors = Partial<Record<400 | 401 | 403 | 404 | 409 | 413 | 415 | 422 | 500 | 503, string[]>>;

/** Answers every route can give: a bad request target, a browser's cross-site or rebound request, a fault. */
const EVERY_ROUTE: Errors = {
  400: ["ERR_BAD_REQUEST"],
  403: ["ERR_FOREIGN_ORIGIN", "ERR_FOREIGN_HOST"],
  500: ["ERR_INTERNAL"],
};

/** An operation's error answers: `{ error: { code, message } }` with the codes it can carry. */
function errorAnswers(own: Errors, options: { token: boolean; body?: object }): JsonObject {
  const all: Record<number, string[]> = {};
  const add = (errors: Errors) => {
    for (const [status, codes] of Object.entries(errors))
      all[Number(status)] = [...(all[Number(status)] ?? []), ...codes];
  };
  add(EVERY_ROUTE);
  if (options.token) add({ 401: ["ERR_UNAUTHORIZED"] });
  add(own);
  const out: JsonObject = {};
  for (const [status, codes] of Object.entries(all)) {
    const schema = {
      allOf: [
        options.body ?? ref("Error"),
        { properties: { error: { properties: { code: { enum: codes } } } } },
      ],
    };
    const headers: JsonObject = {};
    if (status === "503")
      headers["Retry-After"] = {
        description: "Seconds to wait before sending the same request again (it is safe to).",
        schema: { type: "integer" },
      };
    if (status === "401") headers["WWW-Authenticate"] = { schema: { type: "string" } };
    out[status] = {
      description: codes.map((c) => `\`${c}\`: ${CODES[c] ?? c}`).join("; "),
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      content: { "application/json": { schema } },
    } as JsonObject;
  }
  return out;
}

const json = (schema: object, description: string): JsonObject =>
  ({
    description,
    content: { "application/json": { schema } },
  }) as JsonObject;

/** A schema of one request parameter, generated like the components (no $schema of its own). */
function parameterSchema(schema: z.ZodType): JsonObject {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: "input" }) as JsonObject;
  return rest;
}

function operations(options: OpenApiOptions): Record<RestRoute, JsonObject> {
  const token = { token: true };
  const taskIdParam = {
    name: "task_id",
    in: "path",
    required: true,
    description: "The task's id, percent-encoded.",
    schema: parameterSchema(taskId),
  };
  const taskTypeParam = {
    name: "task_type",
    in: "path",
    required: true,
    description: "The task type, percent-encoded.",
    schema: { type: "string", minLength: 1, maxLength: MAX_TASK_TYPE_LENGTH },
  };
  const scheduleIdParam = {
    name: "schedule_id",
    in: "path",
    required: true,
    description: "The schedule's id, percent-encoded.",
    schema: { type: "string", minLength: 1, maxLength: 150 },
  };
  return {
    "POST /tasks": {
      operationId: "submitTasks",
      summary: "Submit one task, or an array of tasks",
      description:
        "One task is answered with its task, an array with `{ tasks }` in the order sent. The task id is the idempotency key: an id already recorded is answered as it stands and not recorded again. In an array, a later task with an earlier one's id is not submitted: it is answered `{ task_id, error }` with code `ERR_DUPLICATE_TASK_ID` (the status is that of the others). A store that cannot answer for some tasks of an array answers 503 with each task's own outcome (`BatchNotRecorded`); sending the same array again records each task once.",
      requestBody: {
        required: true,
        description: `At most ${options.maxBodyBytes} bytes.`,
        content: { "application/json": { schema: ref("SubmitTasks") } },
      },
      responses: {
        "202": json({ anyOf: [ref("Task"), ref("SubmittedTasks")] }, "Recorded (at least one task is new)."),
        "200": json(
          { anyOf: [ref("Task"), ref("SubmittedTasks")] },
          "Every id was already recorded: nothing new, the tasks as they stand.",
        ),
        ...errorAnswers(
          {
            400: ["ERR_MALFORMED_JSON", "ERR_DUPLICATE_KEY", "ERR_INVALID_TASK"],
            413: ["ERR_BODY_TOO_LARGE", "ERR_BATCH_TOO_LARGE"],
            415: ["ERR_UNSUPPORTED_MEDIA_TYPE"],
            422: ["ERR_INVALID_TASK", "ERR_JSON_TOO_DEEP", "ERR_RESERVED_KEY"],
            503: ["ERR_SHUTTING_DOWN", ...STORE, "ERR_NOT_REPLICATED"],
          },
          { token: true, body: { anyOf: [ref("Error"), ref("BatchNotRecorded")] } },
        ),
      },
    },
    "GET /tasks": {
      operationId: "listTasks",
      summary: "List tasks: open ones first, then the recently finished",
      parameters: [
        { name: "status", in: "query", required: false, schema: ref("TaskStatus") },
        {
          name: "scope",
          in: "query",
          required: false,
          schema: { ...parameterSchema(listScope), default: "cluster" },
        },
        {
          name: "limit",
          in: "query",
          required: false,
          schema: { ...parameterSchema(listLimit), default: 100 },
        },
      ],
      responses: {
        "200": json(ref("TaskList"), "The tasks."),
        ...errorAnswers(
          { 400: ["ERR_INVALID_STATUS", "ERR_INVALID_SCOPE", "ERR_INVALID_LIMIT"], 503: STORE },
          token,
        ),
      },
    },
    "GET /tasks/{task_id}": {
      operationId: "getTask",
      summary: "One task; with `wait`, once it has finished or the wait is over",
      parameters: [
        taskIdParam,
        { name: "wait", in: "query", required: false, schema: { ...parameterSchema(waitMs), default: 0 } },
      ],
      responses: {
        "200": json(ref("Task"), "The task."),
        ...errorAnswers(
          { 400: ["ERR_INVALID_TASK_ID", "ERR_INVALID_WAIT"], 404: ["ERR_NOT_FOUND"], 503: STORE },
          token,
        ),
      },
    },
    "POST /tasks/{task_id}/cancel": {
      operationId: "cancelTask",
      summary: "Cancel an open task",
      description:
        'The task ends `abandoned` ("canceled by client"); the result of an attempt still running is refused by its fencing token. Its open dependents and the open tasks it spawned end abandoned too, transitively (also those a finished task spawned that are recorded only later; a cascade cut by the death of a coordinator is finished by the next one). No body.',
      parameters: [taskIdParam],
      responses: {
        "200": json(ref("Task"), "Canceled: the task as it ended."),
        ...errorAnswers(
          { 400: ["ERR_INVALID_TASK_ID"], 404: ["ERR_NOT_FOUND"], 409: ["ERR_TASK_FINISHED"], 503: STORE },
          token,
        ),
      },
    },
    "POST /tasks/{task_id}/input": {
      operationId: "provideInput",
      summary: "Give input to a task waiting for it (status input_required)",
      description:
        "The value joins the task's `inputs` and the task runs again on any worker: a function handler with `ctx.inputs`, a LangGraph graph resumed from its checkpoint with `Command({ resume: value })`. The first answer to a request wins; a second gets 409.",
      parameters: [taskIdParam],
      requestBody: {
        required: true,
        description: `At most ${options.maxBodyBytes} bytes.`,
        content: { "application/json": { schema: ref("TaskInput") } },
      },
      responses: {
        "202": json(ref("Task"), "Given: the task, pending again."),
        ...errorAnswers(
          {
            400: ["ERR_INVALID_TASK_ID", "ERR_MALFORMED_JSON", "ERR_DUPLICATE_KEY"],
            404: ["ERR_NOT_FOUND"],
            409: ["ERR_NOT_WAITING_FOR_INPUT"],
            413: ["ERR_BODY_TOO_LARGE", "ERR_INPUT_TOO_LARGE"],
            415: ["ERR_UNSUPPORTED_MEDIA_TYPE"],
            422: ["ERR_INVALID_INPUT", "ERR_JSON_TOO_DEEP", "ERR_RESERVED_KEY"],
            503: [...STORE, "ERR_NOT_REPLICATED"],
          },
          token,
        ),
      },
    },
    "GET /tasks/{task_id}/graph": {
      operationId: "getTaskGraph",
      summary: "The workflow a task belongs to: its tasks and their depends/spawned edges (at most 10,000)",
      parameters: [taskIdParam],
      responses: {
        "200": json(ref("TaskGraph"), "The workflow."),
        ...errorAnswers({ 400: ["ERR_INVALID_TASK_ID"], 404: ["ERR_NOT_FOUND"], 503: STORE }, token),
      },
    },
    "GET /tasks/{task_id}/events": {
      operationId: "followTask",
      summary: "Server-Sent Events of every change of one task, ending after its terminal event",
      description:
        "`text/event-stream`: per change one event whose `data:` line is a TaskEvent (JSON) and whose `id:` is derived from the task's state in the store, so any coordinator can resume a stream: reconnect with `Last-Event-ID` and get nothing until the task changes, or at once what it is now. The store is read about 4 times a second. Reconnecting after the terminal event is 204 (an EventSource stops).",
      parameters: [
        taskIdParam,
        {
          name: "Last-Event-ID",
          in: "header",
          required: false,
          description: "The `id:` of the last event received (an EventSource sends it by itself).",
          schema: { type: "string" },
        },
      ],
      responses: {
        "200": {
          description: "The stream: `id: <state id>` and `data: <TaskEvent JSON>` per change.",
          content: {
            "text/event-stream": {
              schema: { type: "string", description: "Each event's data is a TaskEvent." },
              "x-event-data": ref("TaskEvent"),
            },
          },
        },
        "204": { description: "The task has ended and `Last-Event-ID` is its terminal event: nothing more." },
        ...errorAnswers(
          { 400: ["ERR_INVALID_TASK_ID"], 404: ["ERR_NOT_FOUND"], 503: ["ERR_TOO_MANY_STREAMS", ...STORE] },
          token,
        ),
      },
    },
    "PUT /limits/{task_type}": {
      operationId: "setLimit",
      summary: "Set the limit of a task type for the whole cluster (every distributor together)",
      description:
        "Never more than `concurrency` attempts of the type in progress at once, never more than `rate_per_s` started in any second. Distributors apply a new or changed limit within about 2 s.",
      parameters: [taskTypeParam],
      requestBody: { required: true, content: { "application/json": { schema: ref("TaskTypeLimit") } } },
      responses: {
        "201": json(ref("Limit"), "Set: the type had no limit before."),
        "200": json(ref("Limit"), "Replaced the type's limit."),
        ...errorAnswers(
          {
            400: ["ERR_MALFORMED_JSON", "ERR_DUPLICATE_KEY"],
            415: ["ERR_UNSUPPORTED_MEDIA_TYPE"],
            413: ["ERR_BODY_TOO_LARGE"],
            409: ["ERR_TOO_MANY_LIMITS"],
            422: ["ERR_INVALID_TYPE_LIMIT", "ERR_JSON_TOO_DEEP", "ERR_RESERVED_KEY"],
            503: STORE,
          },
          token,
        ),
      },
    },
    "GET /limits": {
      operationId: "listLimits",
      summary: "Every task type's limit, with its slots in use and its tasks waiting",
      responses: { "200": json(ref("LimitList"), "The limits."), ...errorAnswers({ 503: STORE }, token) },
    },
    "DELETE /limits/{task_type}": {
      operationId: "removeLimit",
      summary: "Remove the limit of a task type",
      parameters: [taskTypeParam],
      responses: {
        "200": json(
          { type: "object", properties: { task_type: { type: "string" }, removed: { const: true } } },
          "Removed.",
        ),
        ...errorAnswers({ 404: ["ERR_NOT_FOUND"], 422: ["ERR_INVALID_TYPE_LIMIT"], 503: STORE }, token),
      },
    },
    "POST /schedules": {
      operationId: "upsertSchedule",
      summary: "Record a recurring schedule, or replace the one of that id",
      description:
        "Each tick makes exactly one task, id `<schedule_id>@<tick, ISO-8601 UTC>`, however many coordinators run and across restarts; of the ticks missed while none ran, only the latest runs. The same schedule sent again changes nothing.",
      requestBody: { required: true, content: { "application/json": { schema: ref("NewSchedule") } } },
      responses: {
        "201": json(ref("Schedule"), "Recorded: a new schedule."),
        "200": json(ref("Schedule"), "Replaced the schedule of that id (or it was the same)."),
        ...errorAnswers(
          {
            400: ["ERR_MALFORMED_JSON", "ERR_DUPLICATE_KEY"],
            413: ["ERR_BODY_TOO_LARGE"],
            415: ["ERR_UNSUPPORTED_MEDIA_TYPE"],
            409: ["ERR_TOO_MANY_SCHEDULES"],
            422: ["ERR_INVALID_SCHEDULE", "ERR_JSON_TOO_DEEP", "ERR_RESERVED_KEY"],
            503: STORE,
          },
          token,
        ),
      },
    },
    "GET /schedules": {
      operationId: "listSchedules",
      summary: "A page of the schedules, with their next run times and recent task ids",
      description: `In schedule id order (bytewise), at most \`limit\` schedules and ${SCHEDULE_PAGE_BYTES / 1024 / 1024} MiB of their records (a page may hold fewer than \`limit\` and still have a \`next_cursor\`; a schedule larger than that is a page of its own). To read them all, send each answer's \`next_cursor\` as \`cursor\` until it is null: a schedule that exists throughout is on exactly one page.`,
      parameters: [
        {
          name: "limit",
          in: "query",
          required: false,
          schema: {
            ...parameterSchema(listLimit),
            description: `Most schedules in the page; values above ${MAX_LIST_LIMIT} are taken as ${MAX_LIST_LIMIT}.`,
            default: DEFAULT_SCHEDULE_PAGE,
          },
        },
        {
          name: "cursor",
          in: "query",
          required: false,
          schema: { type: "string" },
          description: "The `next_cursor` of the page before; none: the first page.",
        },
      ],
      responses: {
        "200": json(ref("ScheduleList"), "A page of the schedules."),
        ...errorAnswers({ 400: ["ERR_INVALID_LIMIT", "ERR_INVALID_CURSOR"], 503: STORE }, token),
      },
    },
    "GET /schedules/{schedule_id}": {
      operationId: "getSchedule",
      summary: "One schedule with its next run times and recent task ids",
      parameters: [scheduleIdParam],
      responses: {
        "200": json(ref("Schedule"), "The schedule."),
        ...errorAnswers({ 404: ["ERR_NOT_FOUND"], 422: ["ERR_INVALID_SCHEDULE"], 503: STORE }, token),
      },
    },
    "DELETE /schedules/{schedule_id}": {
      operationId: "removeSchedule",
      summary: "Remove a schedule: no tick fires after this",
      parameters: [scheduleIdParam],
      responses: {
        "200": json(
          { type: "object", properties: { schedule_id: { type: "string" }, removed: { const: true } } },
          "Removed.",
        ),
        ...errorAnswers({ 404: ["ERR_NOT_FOUND"], 422: ["ERR_INVALID_SCHEDULE"], 503: STORE }, token),
      },
    },
    "GET /agents": {
      operationId: "listAgents",
      summary: "Every agent of every tier, and the task counts",
      responses: { "200": json(ref("Agents"), "The agents."), ...errorAnswers({}, token) },
    },
    "GET /metrics": {
      operationId: "metrics",
      summary: "Prometheus metrics (public: no token wanted)",
      security: [],
      responses: {
        "200": {
          description: "Prometheus text exposition format.",
          content: { "text/plain": { schema: { type: "string" } } },
        },
        ...errorAnswers({}, { token: false }),
      },
    },
    "GET /openapi.json": {
      operationId: "openApiDocument",
      summary: "This document (public: no token wanted)",
      security: [],
      responses: {
        "200": json({ type: "object" }, "The OpenAPI 3.1 document of this API."),
        ...errorAnswers({}, { token: false }),
      },
    },
  };
}

/** The components, each without the $schema and $id a stand-alone JSON Schema carries. */
function components(options: OpenApiOptions): Record<string, JsonObject> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of NAMED_SCHEMAS) registry.add(schema, { id });
  registry.add(
    submitBody(options.maxBatch).describe(`One task, or an array of 1 to ${options.maxBatch} tasks.`),
    { id: "SubmitTasks" },
  );
  const { schemas } = z.toJSONSchema(registry, {
    io: "input",
    uri: (id) => `#/components/schemas/${id}`,
  });
  const out: Record<string, JsonObject> = {};
  for (const [id, schema] of Object.entries(schemas)) {
    const { $schema: _s, $id: _i, ...rest } = schema as JsonObject;
    out[id] = rest;
  }
  return out;
}

/**
 * The coordinator's REST API as an OpenAPI 3.1 document, generated from the zod schemas the
 * routes validate with (http-schemas.ts): served at GET /openapi.json.
 */
export function openApiDocument(options: OpenApiOptions): JsonObject {
  const paths: Record<string, Record<string, JsonObject>> = {};
  for (const [route, operation] of Object.entries(operations(options))) {
    const [method, path] = route.split(" ") as [string, string];
    paths[path] = { ...paths[path], [method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Triad coordinator REST API",
      version: VERSION,
      description:
        "Tasks in and out, agents, metrics. Errors are `{ error: { code, message } }`; a path no route serves is 404 `ERR_NOT_FOUND`, a method a path does not take is 405 `ERR_METHOD_NOT_ALLOWED` (with `Allow`). " +
        "When the server has TRIAD_API_TOKEN, every route but /metrics and /openapi.json wants `Authorization: Bearer <token>`. " +
        "The same port also serves the dashboard (GET /) and the A2A protocol (/.well-known/agent-card.json, /a2a/jsonrpc), which are not described here.",
      license: { name: "MIT", identifier: "MIT" },
    },
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: components(options),
      securitySchemes: {
        bearer: {
          type: "http",
          scheme: "bearer",
          description: "TRIAD_API_TOKEN; wanted only when the server was started with one.",
        },
      },
    },
  } as JsonObject;
}
