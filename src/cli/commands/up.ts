import { randomBytes } from "node:crypto";
import type { CoordinatorAgent, DistributorAgent } from "../../agents/index.js";
import { isTriadError, TriadError } from "../../core/errors.js";
import type { Logger } from "../../core/logger.js";
import { dropMemoryServer, redactUrl } from "../../core/store/index.js";
import { startCoordinatorServer } from "../../server/coordinator-server.js";
import { demoTasks, flaky } from "../demo-workload.js";
import { loadHandlers } from "../handlers-module.js";
import { formatMs, percentile } from "../latency.js";
import { limitsFrom } from "../limit-flags.js";
import { createLogger, logFatalErrors } from "../logging.js";
import { type ParsedOptions, positiveInt, taskTypeOption, UsageError } from "../options.js";
import { Progress } from "../progress.js";
import { checkEnvSecret } from "../secret.js";
import { onShutdown } from "../shutdown.js";
import { storeConfig } from "../store-flags.js";
import { UpCluster } from "../up-cluster.js";

export async function up(options: ParsedOptions): Promise<number> {
  const registered = new Set<string>();
  checkEnvSecret(); // a short TRIAD_SECRET: refused before anything starts
  const logger = await createLogger(options, "triad");
  // The logger itself: the wrapper below does not say which levels it writes.
  logFatalErrors(logger);
  const log = loggingRegistrations(logger, registered);
  const store = String(options.redis);
  // A blank or control-character type is refused before anything starts (an empty flag is unset).
  if (options["a2a-text-type"]) taskTypeOption(options, "a2a-text-type");
  const limits = limitsFrom(options) ?? {};
  const nDist = positiveInt(options, "distributors");
  const nWorkers = Math.max(nDist, positiveInt(options, "workers"));
  const nTasks = Number(options.tasks); // a whole number >= 0 (specs.ts)
  const concurrency = positiveInt(options, "concurrency");
  const runId = randomBytes(3).toString("hex");
  // A private embedded store for this run; on Redis, a prefix of its own.
  const maxFinished = options["memory-max-finished"];
  if (maxFinished !== undefined && store !== "memory://") {
    throw new UsageError(
      `--memory-max-finished is for the embedded store (memory://); ${redactUrl(store)} keeps records for their retention`,
    );
  }
  const redis =
    store === "memory://"
      ? storeConfig(options, {
          url: `memory://up-${runId}`,
          ...(maxFinished !== undefined
            ? { memoryMaxFinished: positiveInt(options, "memory-max-finished") }
            : {}),
        })
      : storeConfig(options, { url: store, keyPrefix: `triad:up-${runId}:` });
  const out = process.stdout;
  // The user's handlers run beside the demo's (a type of theirs may replace a built-in one).
  const handlers = { flaky, ...(options.handlers ? await loadHandlers(String(options.handlers)) : {}) };

  // Several coordinators share the store and split the work (SPEC "Several coordinators").
  const nCoord = positiveInt(options, "coordinators");
  const cluster = new UpCluster({
    coordinators: nCoord,
    distributors: nDist,
    workers: nWorkers,
    concurrency,
    redis,
    handlers,
    limits,
    maxLimits: Number(options["max-limits"]),
    maxSchedules: Number(options["max-schedules"]),
    logger: log,
    shutdownTimeoutMs: Number(options["shutdown-timeout"]),
    ...(store === "memory://" && { afterStop: () => dropMemoryServer(`up-${runId}`) }),
  });
  const { coordinators, distributors, servers } = cluster;
  // From the start a signal stops the run gracefully (SPEC: SIGTERM / SIGINT): during the
  // start-up no more agents start and those that did stop; during the workload no more of it is
  // submitted, the agents stop (workers finish what they run, distributors hand back the rest),
  // and the summary says what ran; in --keep the agents stop. Then the exit (0).
  const interrupt = new AbortController();
  let stopped = () => {};
  const agentsStopped = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  let starting: Promise<unknown> = Promise.resolve();
  const exit = onShutdown(
    async () => {
      interrupt.abort();
      try {
        await starting.catch(() => {}); // what is starting now ends its start, and is stopped below
        await cluster.stop();
      } finally {
        stopped();
      }
    },
    Number(options["shutdown-timeout"]),
    (m) => log.info(m),
  );
  // The shutdown ran out of time with agents still stopping: the summary tells what ran by then.
  void exit.then(stopped);
  starting = startAll(cluster, interrupt.signal, options, log);
  try {
    // A start stuck (a store that does not answer) past a signal's grace period ends with it.
    await Promise.race([starting, exit]);
  } catch (err) {
    if (interrupt.signal.aborted) return exit;
    await cluster.stop();
    throw err;
  }
  if (interrupt.signal.aborted) {
    const started = { coordinators: coordinators.length, distributors: distributors.length };
    log.info(
      { ...started, workers: cluster.workers.length },
      "interrupted while starting: no more agents start, those that did stop",
    );
    return exit;
  }
  const coordinator = coordinators[0]!;
  const server = servers[0];
  out.write(
    `Triad up: ${nCoord} coordinator${nCoord > 1 ? "s" : ""}, ${nDist} distributors, ${nWorkers} workers on ${redactUrl(store)}\n`,
  );
  // The address last, once every agent has logged its registration: not buried among those lines.
  await waitReady({ coordinator, distributors, nWorkers, registered }, 5000, interrupt.signal);
  if (options.handlers)
    out.write(
      `Your task types: ${Object.keys(handlers)
        .filter((t) => t !== "flaky")
        .join(", ")}\n`,
    );
  if (server) out.write(`Dashboard and API: ${server.url}  (API description: ${server.url}/openapi.json)\n`);
  if (servers.length > 1)
    out.write(`Every coordinator serves the same API: ${servers.map((s) => s.url).join(", ")}\n`);

  let result: { ok: boolean; summary: string };
  try {
    result = await runWorkload(coordinators, distributors, nTasks, runId, out, log, {
      signal: interrupt.signal,
      agentsStopped,
    });
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  out.write(result.summary);

  if (interrupt.signal.aborted) return exit;
  if (options.keep) {
    out.write(`serving at ${server?.url ?? "(no HTTP API)"}; Ctrl-C to stop\n`);
    return exit;
  }
  await cluster.stop();
  return result.ok ? 0 : 1;
}

/**
 * The agents, then the HTTP API of each coordinator (on --port, the next ports for the others).
 * Without its port only --keep fails (it is there to serve the dashboard and the API); else the
 * run goes on without the API.
 */
async function startAll(
  cluster: UpCluster,
  signal: AbortSignal,
  options: ParsedOptions,
  log: Logger,
): Promise<void> {
  if (!(await cluster.start(signal))) return;
  try {
    for (const [k, c] of cluster.coordinators.entries()) {
      if (signal.aborted) return;
      const port = Number(options.port);
      cluster.servers.push(
        await startCoordinatorServer(c, {
          port: port === 0 ? 0 : port + k,
          host: String(options.host),
          apiToken: process.env.TRIAD_API_TOKEN,
          a2aTextType: options["a2a-text-type"] ? String(options["a2a-text-type"]) : undefined,
          logger: log,
        }),
      );
    }
  } catch (err) {
    if (options.keep) {
      throw new TriadError(
        isTriadError(err) ? err.code : "ERR_LISTEN",
        `--keep: cannot serve the dashboard and API: ${(err as Error).message}; free the port or choose another (--port 0: any free port)`,
      );
    }
    log.warn(
      { err: (err as Error).message },
      "no HTTP API this run (port busy?); use --port 0 for any free port",
    );
  }
}

/**
 * Until the coordinator knows every distributor, they hold their leases and know every worker,
 * and every registration has been logged (or the time is up).
 */
async function waitReady(
  cluster: {
    coordinator: CoordinatorAgent;
    distributors: DistributorAgent[];
    nWorkers: number;
    registered: Set<string>;
  },
  timeoutMs: number,
  signal: AbortSignal,
): Promise<void> {
  const { coordinator, distributors, nWorkers, registered } = cluster;
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline && !signal.aborted) {
    const workers = distributors.reduce((n, d) => n + d.core.registry.alive().length, 0);
    const known = distributors.every((d) => d.core.lease.owns && coordinator.core.directory.get(d.agentId));
    if (known && workers === nWorkers && registered.size >= distributors.length + nWorkers) return;
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** The logger, noting in `registered` each agent whose registration it logs ("worker registered"). */
function loggingRegistrations(log: Logger, registered: Set<string>): Logger {
  const wrap = (inner: Logger): Logger => ({
    trace: (...args) => inner.trace(...args),
    debug: (...args) => inner.debug(...args),
    warn: (...args) => inner.warn(...args),
    error: (...args) => inner.error(...args),
    info: (...args) => {
      inner.info(...args);
      const [obj, msg] = args;
      if (typeof obj === "object" && / registered$/.test(msg ?? "")) {
        registered.add(String(obj.worker ?? obj.distributor));
      }
    },
    child: (bindings) => wrap(inner.child(bindings)),
  });
  return wrap(log);
}

/** Tasks submitted in one turn of the event loop: a signal is heard between slices, not after all. */
const SUBMIT_SLICE = 1000;

/**
 * Submits the demo workload and waits for every task, then sums up. When `interrupt.signal`
 * aborts (a signal), the rest is not submitted, and the wait ends once `interrupt.agentsStopped`
 * (the agents have finished what they ran, or the shutdown ran out of time): the summary counts
 * what finished and says what did not.
 */
async function runWorkload(
  coordinators: CoordinatorAgent[],
  distributors: DistributorAgent[],
  n: number,
  runId: string,
  out: NodeJS.WriteStream,
  log: Logger,
  interrupt: { signal: AbortSignal; agentsStopped: Promise<void> },
): Promise<{ ok: boolean; summary: string }> {
  const tasks = demoTasks(n, runId);
  const latencies: number[] = [];
  // Every worker, with what it finished: 0 for one that ran nothing (--tasks 0 listed none).
  const perWorker = new Map<string, number>(
    distributors.flatMap((d) => d.core.registry.all().map((w): [string, number] => [w.id, 0])),
  );
  let completed = 0;
  let failed = 0;
  let wrong = 0;
  // Summed up: an answer after that (a waiter the shutdown closed) changes nothing.
  let over = false;
  const started = performance.now();
  const retried = () => distributors.reduce((s, d) => s + d.core.stats.retried, 0);
  const progress = new Progress(out, () => ({
    total: n,
    completed,
    failed,
    retried: retried(),
    elapsedMs: performance.now() - started,
  }));
  let broke = (_err: unknown) => {};
  const broken = new Promise<never>((_, reject) => {
    broke = reject;
  });
  broken.catch(() => {}); // raced below; a task's error is thrown from there
  const one = async (t: (typeof tasks)[number], i: number): Promise<void> => {
    const t0 = performance.now();
    const { expected: _expected, ...task } = t;
    try {
      // Submitted through one coordinator, awaited through the next (the same one when alone).
      const via = coordinators[i % coordinators.length]!;
      await via.submitTask({ ...task, status: "pending", created_at: new Date().toISOString() });
      const done = await coordinators[(i + 1) % coordinators.length]!.waitForTask(t.task_id, 120_000);
      // Not finished when the run was interrupted: said in the summary, not as a failure.
      if (over || (done === null && interrupt.signal.aborted)) return;
      latencies.push(performance.now() - t0);
      if (done?.status === "completed") {
        completed++;
        if (t.expected && JSON.stringify(done.result) !== JSON.stringify(t.expected)) wrong++;
      } else {
        failed++;
        log.warn(
          { task: t.task_id, status: done?.status ?? "timeout", error: done?.error },
          "task did not complete",
        );
      }
      const by = String(done?.assigned_to ?? "-");
      perWorker.set(by, (perWorker.get(by) ?? 0) + 1);
    } catch (err) {
      // Interrupted, the agents stop under the tasks still open: those did not finish.
      if (!interrupt.signal.aborted) broke(err);
    }
  };
  const running: Promise<void>[] = [];
  progress.start();
  try {
    for (let from = 0; from < n && !interrupt.signal.aborted; from += SUBMIT_SLICE) {
      if (from > 0) await new Promise((r) => setImmediate(r));
      for (let i = from; i < Math.min(n, from + SUBMIT_SLICE) && !interrupt.signal.aborted; i++) {
        running.push(one(tasks[i]!, i));
      }
    }
    await Promise.race([Promise.all(running), broken, interrupt.agentsStopped]);
  } finally {
    over = true;
    progress.stop();
  }
  const elapsed = performance.now() - started;
  const finished = completed + failed;
  const interrupted = finished < n;
  latencies.sort((a, b) => a - b);
  const agentRows = [
    [
      "distributors",
      distributors.map((d) => `${d.agentId} ${d.core.stats.completed + d.core.stats.failed}`).join(", "),
    ],
    [
      "workers",
      [...perWorker]
        .sort(([a], [b]) => a.localeCompare(b, undefined, { numeric: true }))
        .map(([w, c]) => `${w} ${c}`)
        .join(", "),
    ],
  ];
  // --tasks 0 (a cluster to try handlers on): no throughput of 0 tasks/s, no latency of nothing.
  if (n === 0) {
    return { ok: true, summary: `\nSummary: no tasks were run (--tasks 0)\n${summaryRows(agentRows)}\n` };
  }
  const rows = [
    ["completed", `${completed}`],
    ["failed", `${failed}`],
    ...(interrupted
      ? [
          [
            "interrupted",
            `${running.length - finished} submitted and not finished, ${n - running.length} not submitted`,
          ],
        ]
      : []),
    ["retried", `${retried()}  (tasks that failed on purpose once and succeeded on retry)`],
    ["results", wrong === 0 ? "all checked results right" : `${wrong} WRONG`],
    [
      "throughput",
      `${finished > 0 ? ((finished / elapsed) * 1000).toFixed(0) : 0} tasks/s  (${formatMs(elapsed)})`,
    ],
    [
      "latency",
      `p50 ${formatMs(percentile(latencies, 50))}  p95 ${formatMs(percentile(latencies, 95))}  p99 ${formatMs(percentile(latencies, 99))}`,
    ],
    ...agentRows,
  ];
  const title = interrupted ? `${n} tasks, interrupted after ${formatMs(elapsed)}` : `${n} tasks`;
  const summary = `\nSummary: ${title}\n${summaryRows(rows)}\n`;
  return { ok: failed === 0 && wrong === 0, summary };
}

/** The summary's rows, a name and its value each, the values aligned. */
function summaryRows(rows: string[][]): string {
  return rows.map(([k, v]) => `  ${k!.padEnd(13)} ${v}`).join("\n");
}
