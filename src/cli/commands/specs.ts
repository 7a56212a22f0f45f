// What each command takes, kept apart from what it does: main.ts reads these for parsing and
// --help, and loads a command's module (and with it the agents, LangGraph and the Redis client)
// only to run it. So `triad --help`, `triad submit` and `triad status` start without them.

import { a2aPostsFlag } from "../a2a-flags.js";
import { MAX_AGENT_ID_LENGTH } from "../agent-id.js";
import { historyFlag } from "../history.js";
import { type CommandSpec, type FlagSpec, PORT_RANGE } from "../options.js";
import { busyPollFlag, redisTlsFlags, replicaWaitFlags } from "../store-flags.js";
import { timingFlags } from "../timing-flags.js";
import { coordinatorUrlsFlag } from "./coordinator-flag.js";

/**
 * submit --count at most: ten million copies, sent a request of 1,000 at a time, hold one request's
 * tasks in memory (and with --wait at most 10,000 ids waiting their turn), so memory is no limit;
 * this bounds a typo (1e9, 1e30) to what one cluster takes in a run, not hours of requests.
 */
const MAX_COUNT = 10_000_000;
/**
 * up --tasks at most: the demo makes every task up front, submits them all at once and waits on
 * each (for 120 s) in this one process. 50,000 finish in about a minute (the last after ~55 s);
 * at 100,000 none had finished after 85 s (the agents' timers starved) and the waits would run
 * out. A bigger load wants separate processes (`triad submit --count`).
 */
const MAX_DEMO_TASKS = 50_000;

/** What --id takes (../agent-id.ts). */
const AGENT_ID_TEXT = `agent id: letters, digits, ".", "_", "-", ":" (at most ${MAX_AGENT_ID_LENGTH})`;

// Flags several tier commands share.
/** Parsed by ../limit-flags.ts, in the command that runs (so --help loads no schema). */
const limitFlag: FlagSpec = {
  name: "limit",
  type: "string",
  repeatable: true,
  description:
    "a limit for the whole cluster on one task type, e.g. llm=concurrency:20,rate:50 (repeatable; env: space-separated)",
};
/**
 * The caps on what the store holds for the whole cluster (the coordinator's schedules.maxSchedules
 * and limits.maxLimits): their defaults DEFAULT_MAX_SCHEDULES and DEFAULT_MAX_LIMITS, written out
 * as this file loads no agent module (a unit test keeps them equal). Give every coordinator of a
 * store the same: each refuses by its own.
 */
const maxSchedulesFlag: FlagSpec = {
  name: "max-schedules",
  type: "number",
  integer: true,
  min: 1,
  max: Number.MAX_SAFE_INTEGER,
  description:
    "most schedules the cluster may hold: POST /schedules of a new one past it is 409 ERR_TOO_MANY_SCHEDULES",
  default: 10_000,
};
const maxLimitsFlag: FlagSpec = {
  name: "max-limits",
  type: "number",
  integer: true,
  min: 1,
  max: Number.MAX_SAFE_INTEGER,
  description:
    "most task types with a limit: a limit on one more (PUT /limits, --limit) is 409 ERR_TOO_MANY_LIMITS",
  default: 1000,
};
const redisFlag: FlagSpec = {
  name: "redis",
  type: "string",
  description:
    "store URL: redis://host:port, rediss:// for TLS, or redis+cluster://host:port,host:port for Redis Cluster",
  required: true,
};
const bindHostFlag: FlagSpec = {
  name: "host",
  type: "string",
  description: "address to bind (0.0.0.0 for other hosts)",
  default: "127.0.0.1",
};
const a2aTextTypeFlag: FlagSpec = {
  name: "a2a-text-type",
  type: "string",
  description:
    "task type for plain-text A2A messages (payload { text }: the text parts joined); unset, text-only messages are refused",
};
const a2aPortFlag: FlagSpec = {
  name: "port",
  type: "number",
  ...PORT_RANGE,
  description: "port for A2A (0: any free port)",
  required: true,
};
const handlersFlag: FlagSpec = {
  name: "handlers",
  type: "string",
  description: "ES module (path or package) whose default export maps task types to handlers",
};
const shutdownTimeoutFlag = (what: string): FlagSpec => ({
  name: "shutdown-timeout",
  type: "number",
  description: `ms to finish ${what} on SIGTERM/SIGINT`,
  default: 10_000,
});

export const upSpec: CommandSpec = {
  name: "up",
  summary:
    "Run a whole Triad cluster in this process (coordinator, distributors, workers) and push a demo workload through it.",
  usage:
    "triad up [--redis URL] [--coordinators N] [--distributors N] [--workers N] [--tasks N] [--port P] [--keep] [--handlers MODULE]",
  flags: [
    {
      name: "redis",
      type: "string",
      description:
        "store URL: memory:// for the embedded engine, redis://host:port, or redis+cluster://host:port,... for Redis Cluster",
      default: "memory://",
    },
    ...redisTlsFlags,
    ...replicaWaitFlags,
    {
      name: "coordinators",
      type: "number",
      description:
        "coordinators sharing the store (the first serves the HTTP API; the others serve on the next ports)",
      default: 1,
    },
    { name: "distributors", type: "number", description: "distributors", default: 2 },
    {
      name: "workers",
      type: "number",
      description: "workers in all, spread over the distributors",
      default: 8,
    },
    {
      name: "concurrency",
      type: "number",
      integer: true,
      min: 1,
      description: "tasks each worker runs at once",
      default: 16,
    },
    {
      name: "memory-max-finished",
      type: "number",
      description:
        "memory:// only: finished task records kept at most, the oldest dropped first (default 100000; Redis keeps them for their retention)",
    },
    {
      name: "tasks",
      type: "number",
      integer: true,
      min: 0,
      max: MAX_DEMO_TASKS,
      description: `demo tasks to run (at most ${MAX_DEMO_TASKS}: compute, data_processing, a few that fail once and are retried)`,
      default: 1000,
    },
    {
      name: "port",
      type: "number",
      ...PORT_RANGE,
      description: "port of the dashboard and HTTP API (0: any free port)",
      default: 7420,
    },
    { name: "host", type: "string", description: "address the HTTP API binds", default: "127.0.0.1" },
    {
      name: "keep",
      type: "boolean",
      description: "keep serving the dashboard and API after the workload, until SIGINT/SIGTERM",
      default: false,
    },
    { ...handlersFlag, description: `${handlersFlag.description}, run by every worker` },
    a2aTextTypeFlag,
    limitFlag,
    maxLimitsFlag,
    maxSchedulesFlag,
    shutdownTimeoutFlag("in-flight work"),
    busyPollFlag,
  ],
  notes:
    "Environment: TRIAD_API_TOKEN (bearer token for the HTTP API), TRIAD_SECRET (A2A signing secret, at least 16 bytes; unset, one of this process).",
};

export const coordinatorSpec: CommandSpec = {
  name: "coordinator",
  summary: "Run a coordinator: A2A, the REST API, metrics and the dashboard on one port.",
  usage: "triad coordinator --id ID --redis URL --port P [--host H]",
  flags: [
    { name: "id", type: "string", description: AGENT_ID_TEXT, required: true, agentId: true },
    redisFlag,
    ...redisTlsFlags,
    ...replicaWaitFlags,
    {
      name: "port",
      type: "number",
      ...PORT_RANGE,
      description: "port for A2A and the HTTP API (0: any free port)",
      required: true,
    },
    bindHostFlag,
    a2aPostsFlag,
    a2aTextTypeFlag,
    {
      name: "placement-timeout",
      type: "number",
      description: "ms a task may wait for a healthy distributor before it is abandoned",
      default: 30_000,
    },
    { name: "max-retries", type: "number", description: "retries of a failed task", default: 2 },
    {
      name: "retry-backoff",
      type: "number",
      description: "ms before the first retry (doubles each time)",
      default: 200,
    },
    limitFlag,
    maxLimitsFlag,
    maxSchedulesFlag,
    shutdownTimeoutFlag("in-flight work"),
    ...timingFlags("heartbeat-interval", "heartbeat-timeout", "monitor-interval", "dead-retention"),
    busyPollFlag,
    historyFlag,
  ],
  notes:
    "Environment: TRIAD_SECRET (required unless TRIAD_AGENT_KEY_FILE is set; the A2A signing secret shared by all processes, at least 16 bytes: openssl rand -hex 32), TRIAD_AGENT_KEY_FILE or TRIAD_AGENT_KEY (this agent's own key, see `triad keys generate`), TRIAD_API_TOKEN (bearer token for the HTTP API).",
};

export const distributorSpec: CommandSpec = {
  name: "distributor",
  summary: "Run a distributor: takes tasks from the coordinator and runs them on its workers.",
  usage: "triad distributor --id ID --coordinator URL --redis URL --port P [--host H]",
  flags: [
    {
      name: "id",
      type: "string",
      description: `${AGENT_ID_TEXT} (a restart with the same id picks up its tasks)`,
      required: true,
      agentId: true,
    },
    {
      name: "coordinator",
      type: "string",
      description:
        "the coordinator's URL, e.g. http://127.0.0.1:7400; several of one store comma-separated, tried in order: it reports to the first that answers, and moves to the next when that one stops answering",
      required: true,
      url: "list",
    },
    redisFlag,
    ...redisTlsFlags,
    a2aPortFlag,
    bindHostFlag,
    a2aPostsFlag,
    {
      name: "advertise-url",
      type: "string",
      url: "one",
      description: "URL workers and the coordinator are told to reach this distributor at (default its own)",
    },
    {
      name: "task-timeout",
      type: "number",
      description: "ms a worker gives one attempt of a task",
      default: 30_000,
    },
    shutdownTimeoutFlag("in-flight work"),
    ...timingFlags(
      "heartbeat-interval",
      "heartbeat-timeout",
      "monitor-interval",
      "lease-ttl",
      "dead-retention",
    ),
    busyPollFlag,
    historyFlag,
  ],
  notes:
    "Environment: TRIAD_SECRET (required unless TRIAD_AGENT_KEY_FILE is set; the A2A signing secret shared by all processes, at least 16 bytes: openssl rand -hex 32), TRIAD_AGENT_KEY_FILE or TRIAD_AGENT_KEY (this agent's own key, see `triad keys generate`).",
};

export const workerSpec: CommandSpec = {
  name: "worker",
  summary: "Run a worker: executes tasks (built-in handlers, and yours with --handlers).",
  usage:
    "triad worker --id ID --distributor URL --port P [--handlers MODULE] [--concurrency N] [--a2a-agent URL]...",
  flags: [
    { name: "id", type: "string", description: AGENT_ID_TEXT, required: true, agentId: true },
    {
      name: "distributor",
      type: "string",
      description: "the distributor's URL, e.g. http://127.0.0.1:7401",
      required: true,
      url: "one",
    },
    a2aPortFlag,
    bindHostFlag,
    a2aPostsFlag,
    handlersFlag,
    {
      name: "advertise-url",
      type: "string",
      url: "one",
      description: "URL the distributor is told to reach this worker at (default its own)",
    },
    {
      name: "concurrency",
      type: "number",
      integer: true,
      min: 1,
      description: "tasks run at once",
      default: 16,
    },
    {
      name: "a2a-agent",
      type: "string",
      repeatable: true,
      url: "each",
      description:
        "an A2A agent's URL (repeatable; env: space-separated): its card's skills become task types, each task one message to it",
    },
    {
      name: "a2a-concurrency",
      type: "number",
      integer: true,
      min: 1,
      description: "remote tasks in flight to each --a2a-agent at once",
      default: 16,
    },
    {
      name: "a2a-reconnect-window",
      type: "number",
      integer: true,
      min: 0,
      description:
        "ms a remote task waits for its --a2a-agent to come back (a restart) before the attempt fails (0: fails at once)",
      // DEFAULT_RECONNECT_WINDOW_MS, written out: specs.ts loads no agent module (see its head).
      default: 10_000,
    },
    shutdownTimeoutFlag("running tasks"),
    ...timingFlags("heartbeat-interval"),
    // The worker's own use of it: how long its distributor may be silent before the worker says
    // so, gives its heartbeats up, and at shutdown gives up the results it has not acknowledged.
    {
      ...timingFlags("heartbeat-timeout")[0]!,
      description:
        "ms of silence after which the distributor is taken as not answering (give it the distributor's --heartbeat-timeout)",
    },
    historyFlag,
  ],
  notes:
    "Environment: TRIAD_SECRET (required unless TRIAD_AGENT_KEY_FILE is set; the A2A signing secret shared by all processes, at least 16 bytes: openssl rand -hex 32), TRIAD_AGENT_KEY_FILE or TRIAD_AGENT_KEY (this agent's own key, see `triad keys generate`).\n" +
    "A handlers module: export default { my_type: (task) => result, my_graph: compiledLangGraph } (see examples/handlers.mjs; examples/a2a-handlers.mjs puts A2A agents behind task types).\n" +
    "TRIAD_A2A_AGENT_TOKEN is sent to every --a2a-agent as a bearer token (a small A2A agent to try: examples/a2a-agent.mjs).",
};

export const submitSpec: CommandSpec = {
  name: "submit",
  summary: "Submit tasks to a coordinator: one, --count copies, or a batch from a file or stdin.",
  usage:
    "triad submit --coordinator URL (--type TYPE [--payload JSON] [--count N] | --file FILE|-) [--priority 0-9] [--delay MS|--run-at TIME] [--expires-at TIME] [--wait]",
  flags: [
    coordinatorUrlsFlag,
    {
      name: "type",
      type: "string",
      description: "task type (compute, data_processing, echo, sleep, or yours)",
    },
    { name: "payload", type: "string", description: "the task's payload, a JSON object", default: "{}" },
    {
      name: "count",
      type: "number",
      integer: true,
      min: 1,
      max: MAX_COUNT,
      description: `submit this many copies (at most ${MAX_COUNT}; sent 1,000 a request as they are made)`,
      default: 1,
    },
    {
      name: "file",
      type: "string",
      description:
        "a JSON array (or JSON lines) of {task_type, payload, task_id?, depends_on?, on_dependency_failure?, priority?, run_at?, delay_ms?, expires_at?}: a workflow graph is sent dependencies first; - for stdin",
    },
    {
      name: "wait",
      type: "boolean",
      description: "wait for every task to finish and print its final record",
      default: false,
    },
    {
      name: "timeout",
      type: "number",
      min: 0,
      max: 300_000,
      description: "ms to wait for each task with --wait (at most 300000, the coordinator's longest wait)",
      default: 60_000,
    },
    { name: "priority", type: "number", description: "0-9, higher runs first (default 0)" },
    {
      name: "delay",
      type: "string",
      description: "start no sooner than this long from now: milliseconds, or 500ms, 30s, 5m, 2h",
    },
    {
      name: "run-at",
      type: "string",
      description: "start no sooner than this ISO-8601 time (with Z or an offset)",
    },
    {
      name: "expires-at",
      type: "string",
      description: 'not started by this ISO-8601 time, the task ends abandoned "expired"',
    },
  ],
  notes:
    "--priority, --delay, --run-at and --expires-at apply to every task sent (a --file task's own keys win).\n" +
    "Prints one JSON task record per line. With --wait the exit code is 0 when every task completed, 1 otherwise; a task still open when its wait (--timeout) runs out is printed as it is, and named on stderr.\n" +
    "Environment: TRIAD_API_TOKEN (bearer token, when the coordinator wants one).",
};

export const statusSpec: CommandSpec = {
  name: "status",
  summary: "Show a cluster's agents, their health and the task counts.",
  usage: "triad status --coordinator URL [--json] [--task ID [--follow]]",
  flags: [
    coordinatorUrlsFlag,
    { name: "json", type: "boolean", description: "print JSON, for scripts", default: false },
    { name: "task", type: "string", description: "show this task instead of the agents" },
    {
      name: "follow",
      type: "boolean",
      description:
        "with --task: print each change (status, attempt, progress, input request) until it ends; exit 0 if it completed",
      default: false,
    },
  ],
  notes:
    "Exit codes: 0 the status was read and the cluster can run tasks (a live distributor with a live worker; agents that crashed or stopped are listed, not a failure); 1 it could not be read, or the cluster cannot run tasks (why, on stderr); 2 bad usage. With --task: 1 when the task failed or was abandoned.\n" +
    "Environment: TRIAD_API_TOKEN (bearer token, when the coordinator wants one).",
};

export const cancelSpec: CommandSpec = {
  name: "cancel",
  summary:
    'Cancel an open task: it ends abandoned ("canceled by client"), and the result of an attempt still running is refused.',
  usage: "triad cancel --coordinator URL --task ID",
  flags: [
    coordinatorUrlsFlag,
    { name: "task", type: "string", description: "the id of the task to cancel", required: true },
  ],
  notes:
    "Prints the canceled task's record. Exits 1, saying why, for a task already finished (it is left as it is) or unknown. Environment: TRIAD_API_TOKEN (bearer token, when the coordinator wants one).",
};

const keysNotes =
  "Per-agent keys (opt-in; see README): each agent signs with its own Ed25519 key and a receiver takes a message only under the key registered for its sender. An agent started with TRIAD_AGENT_KEY_FILE (or TRIAD_AGENT_KEY, PEM) uses it instead of TRIAD_SECRET; coordinators and distributors read the public keys from --redis, a worker from TRIAD_PUBLIC_KEYS_FILE (written by `triad keys list --json`).";

export const keysGenerateSpec: CommandSpec = {
  name: "keys generate",
  summary:
    "Make an agent's Ed25519 key pair: the private key to a file (mode 0600), the public key registered in the store.",
  usage: "triad keys generate --agent ID --role coordinator|distributor|worker --redis URL [--out FILE]",
  flags: [
    {
      name: "agent",
      type: "string",
      description: "the agent id the key speaks for",
      required: true,
      agentId: true,
    },
    {
      name: "role",
      type: "string",
      description: "what the agent is: coordinator, distributor or worker (it may speak only as one)",
      required: true,
    },
    redisFlag,
    ...redisTlsFlags,
    {
      name: "out",
      type: "string",
      description: "file for the private key (default ./ID.key; never overwritten)",
    },
  ],
  notes: keysNotes,
};

export const keysListSpec: CommandSpec = {
  name: "keys list",
  summary: "List the agents' registered public keys (with --json, as TRIAD_PUBLIC_KEYS_FILE takes them).",
  usage: "triad keys list --redis URL [--json]",
  flags: [
    redisFlag,
    ...redisTlsFlags,
    { name: "json", type: "boolean", description: "print JSON", default: false },
  ],
  notes: keysNotes,
};

export const keysRevokeSpec: CommandSpec = {
  name: "keys revoke",
  summary:
    "Remove an agent's public key: its messages are refused once every agent has read the keys again (about 5 s).",
  usage: "triad keys revoke --agent ID --redis URL",
  flags: [
    {
      name: "agent",
      type: "string",
      description: "the agent id whose key to remove",
      required: true,
      agentId: true,
    },
    redisFlag,
    ...redisTlsFlags,
  ],
  notes: keysNotes,
};
