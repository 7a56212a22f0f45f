import type { IncomingMessage, ServerResponse } from "node:http";
import type { CoordinatorAgent } from "../../agents/index.js";
import type { TaskActivity } from "../../agents/observe/coordinator-observer.js";
import { sendJson, startEventStream } from "../http-util.js";
import { agentsView, taskCounts } from "./cluster-view.js";
import { storeStatus } from "./store-status.js";

type Retried = Extract<TaskActivity, { type: "retried" }>;

/** One second of activity: tasks finished by status, accepted, and their latency percentiles (ms). */
export type Sample = {
  /** Epoch second (this server's clock) the sample covers. */
  t: number;
  submitted: number;
  completed: number;
  failed: number;
  abandoned: number;
  p50: number | null;
  p95: number | null;
};

type Notable = Record<string, unknown> & { at: string };

/** Seconds of samples kept (and sent to a new page). */
const SERIES_SECONDS = 600;
/** Latencies kept per second for its percentiles; beyond it, a uniform sample of them. */
const LATENCY_RESERVOIR = 2048;
/** Entries kept per list of notable events. */
const NOTABLE = 30;
const MAX_CLIENTS = 64;
/** A client whose socket has this much unsent is too slow to follow and is dropped. */
const MAX_UNSENT_BYTES = 1 << 20;
/** Updates go out at most this often (counts feel live), and at least once a second (heartbeat ages). */
const THROTTLE_MS = 250;
const TICK_MS = 1000;

type Client = { res: ServerResponse; lastSample: number; listsVersion: number };

/**
 * What the dashboard shows, kept up to date from the coordinator's activity: per-second
 * throughput and latency (ten minutes of them), the recent failures, retries and reassignments;
 * and the pages watching it, each sent a snapshot when it connects and then what changed, as
 * server-sent events. Timers run only while a page is connected.
 */
export class LiveFeed {
  private readonly series: Sample[] = [];
  private current: Sample & { latencies: number[]; seen: number };
  private readonly failures: Notable[] = [];
  private readonly retries: Notable[] = [];
  private readonly reassignments: Notable[] = [];
  private listsVersion = 0;
  private readonly clients = new Set<Client>();
  private tickTimer: NodeJS.Timeout | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private readonly unsubscribe: () => void;

  constructor(private readonly coordinator: CoordinatorAgent) {
    this.current = emptySecond(nowSecond());
    this.unsubscribe = coordinator.observer.on((a) => this.onActivity(a));
  }

  /** Serves GET /events: an event stream of `snapshot` then `update`s, until the page leaves. */
  connect(req: IncomingMessage, res: ServerResponse): void {
    if (this.clients.size >= MAX_CLIENTS) {
      sendJson(
        res,
        503,
        {
          error: {
            code: "ERR_TOO_MANY_STREAMS",
            message: `this coordinator serves ${MAX_CLIENTS} dashboard event streams at most; try again later`,
          },
        },
        { "retry-after": "5" },
      );
      return;
    }
    startEventStream(res, 2000);
    // HEAD: the stream's head, and no stream to hold open (nothing is ever written to a HEAD
    // response, so a client that left would never be noticed and would keep its place).
    if (req.method === "HEAD") return void res.end();
    const client: Client = { res, lastSample: 0, listsVersion: -1 };
    this.clients.add(client);
    req.on("close", () => this.drop(client));
    this.roll();
    this.send(client, "snapshot", this.updateFor(client));
    this.tickTimer ??= setInterval(() => this.flush(), TICK_MS).unref();
  }

  /** Everything the page needs now (what GET /dashboard/state answers). */
  snapshot(): Record<string, unknown> {
    this.roll();
    return this.state(0, true);
  }

  get clientCount(): number {
    return this.clients.size;
  }

  close(): void {
    this.unsubscribe();
    for (const client of [...this.clients]) {
      client.res.end();
      this.drop(client);
    }
  }

  private onActivity(a: TaskActivity): void {
    this.roll();
    const at = new Date().toISOString();
    if (a.type === "submitted") this.current.submitted++;
    else if (a.type === "terminal") {
      const { task } = a;
      this.current[task.status as "completed" | "failed" | "abandoned"]++;
      if (a.latency_ms !== null) this.keepLatency(a.latency_ms);
      if (task.status !== "completed") {
        this.notable(this.failures, {
          at,
          task_id: task.task_id,
          task_type: task.task_type,
          status: task.status,
          error: task.error,
          attempts: task.attempts,
          worker: task.assigned_to,
        });
      }
      if (a.retries.length > 0) this.retried(at, task, a.retries);
    } else if (a.type === "retried") {
      this.retried(at, a.task, a.retries);
    } else if (a.type === "reassigned") {
      this.notable(this.reassignments, { at, kind: "task", task_id: a.task_id, from: a.from });
    } else if (a.type === "distributor_dead") {
      this.notable(this.reassignments, { at, kind: "distributor_dead", from: a.distributor, tasks: a.tasks });
    }
    this.scheduleFlush();
  }

  /** A task's earlier attempts, each ended by a retry, at the top of the Retries list. */
  private retried(at: string, task: Retried["task"], retries: Retried["retries"]): void {
    this.notable(this.retries, {
      at,
      task_id: task.task_id,
      task_type: task.task_type,
      status: task.status,
      attempts: task.attempts,
      errors: retries.map((r) => ({ attempt: r.attempt, worker: r.worker, error: r.error })),
    });
  }

  private notable(list: Notable[], entry: Notable): void {
    list.unshift(entry);
    if (list.length > NOTABLE) list.pop();
    this.listsVersion++;
  }

  private keepLatency(ms: number): void {
    const c = this.current;
    c.seen++;
    if (c.latencies.length < LATENCY_RESERVOIR) c.latencies.push(ms);
    else {
      const j = Math.floor(Math.random() * c.seen);
      if (j < LATENCY_RESERVOIR) c.latencies[j] = ms;
    }
  }

  /** Closes the seconds that have passed (empty ones too), so the series has one sample per second. */
  private roll(): void {
    const now = nowSecond();
    if (this.current.t >= now) return;
    this.series.push(finish(this.current));
    for (let t = Math.max(this.current.t + 1, now - SERIES_SECONDS); t < now; t++)
      this.series.push(finish(emptySecond(t)));
    if (this.series.length > SERIES_SECONDS) this.series.splice(0, this.series.length - SERIES_SECONDS);
    this.current = emptySecond(now);
  }

  private scheduleFlush(): void {
    if (this.clients.size === 0 || this.flushTimer !== undefined) return;
    this.flushTimer = setTimeout(() => this.flush(), THROTTLE_MS);
    this.flushTimer.unref();
  }

  private flush(): void {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    this.roll();
    for (const client of [...this.clients]) this.send(client, "update", this.updateFor(client));
  }

  /** What `client` has not seen yet: counts and agents always, new samples, the lists if they changed. */
  private updateFor(client: Client): Record<string, unknown> {
    const update = this.state(client.lastSample, client.listsVersion !== this.listsVersion);
    client.lastSample = this.series[this.series.length - 1]?.t ?? client.lastSample;
    client.listsVersion = this.listsVersion;
    return update;
  }

  private state(samplesAfter: number, withLists: boolean): Record<string, unknown> {
    return {
      coordinator: { id: this.coordinator.agentId, started_at: this.coordinator.startedAt },
      store: storeStatus(this.coordinator),
      counts: taskCounts(this.coordinator),
      agents: agentsView(this.coordinator),
      samples: this.series.filter((s) => s.t > samplesAfter),
      ...(withLists
        ? { failures: this.failures, retries: this.retries, reassignments: this.reassignments }
        : {}),
    };
  }

  private send(client: Client, event: string, data: unknown): void {
    const { res } = client;
    if (res.destroyed || res.writableEnded || res.writableLength > MAX_UNSENT_BYTES) {
      res.destroy();
      this.drop(client);
      return;
    }
    res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  private drop(client: Client): void {
    this.clients.delete(client);
    if (this.clients.size > 0) return;
    clearInterval(this.tickTimer);
    clearTimeout(this.flushTimer);
    this.tickTimer = undefined;
    this.flushTimer = undefined;
  }
}

const nowSecond = () => Math.floor(Date.now() / 1000);

function emptySecond(t: number): Sample & { latencies: number[]; seen: number } {
  return {
    t,
    submitted: 0,
    completed: 0,
    failed: 0,
    abandoned: 0,
    p50: null,
    p95: null,
    latencies: [],
    seen: 0,
  };
}

function finish(s: Sample & { latencies: number[]; seen: number }): Sample {
  const sorted = s.latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    sorted.length === 0
      ? null
      : Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
  return {
    t: s.t,
    submitted: s.submitted,
    completed: s.completed,
    failed: s.failed,
    abandoned: s.abandoned,
    p50: pick(0.5),
    p95: pick(0.95),
  };
}
