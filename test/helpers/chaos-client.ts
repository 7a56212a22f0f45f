import { isTerminalStatus } from "../../src/core/state/status.js";
import { type RedisClient, TaskLedger } from "../../src/index.js";
import { type HistoryEvent, HistoryTail, now, sortHistory } from "./history/history.js";

/** The REST API token every coordinator of a chaos run is given (TRIAD_API_TOKEN). */
export const API_TOKEN = "chaos-api-token";

export type TaskSpec = { task_id: string; task_type: string; payload: Record<string, unknown> };

/**
 * The outside of a chaos run (ChaosCluster is the deployment and its nemesis): a client that
 * submits tasks over the REST API and records what it was told, and the run's history — the
 * agents' files (--history) with the client's and the nemesis's lines — with the questions a
 * scenario asks of it as it goes (what runs where, whether an agent has logged something yet).
 */
export abstract class ChaosClient {
  /** The client's and the nemesis's lines. */
  protected readonly own: HistoryEvent[] = [];
  /** The store's tasks, as the client and the checker read them. */
  protected readonly ledger: TaskLedger;
  /** Set as the run closes: submissions stop. */
  protected closed = false;
  private readonly tail = new HistoryTail();
  private readonly pendingSubmits = new Set<Promise<void>>();
  private sorted: { size: number; events: HistoryEvent[] } = { size: -1, events: [] };

  protected constructor(
    /** Where the agents write their histories. */
    readonly dir: string,
    protected readonly store: RedisClient,
  ) {
    this.ledger = new TaskLedger(store);
  }

  /** The coordinators the client asks, in turn, until one answers. */
  protected abstract apiTargets(): Array<{ url: string }>;

  // --- the client ---------------------------------------------------------------------------

  record(op: string, fields: Omit<HistoryEvent, "op" | "t" | "agent"> = {}, agent = "client"): void {
    this.own.push({ op, t: now(), agent, ...fields });
  }

  async api<T>(method: string, path: string, body?: unknown): Promise<T> {
    // With several coordinators: the first that answers.
    const targets = this.apiTargets();
    let res: Response | undefined;
    for (const [k, target] of targets.entries()) {
      try {
        res = await fetch(`${target.url}${path}`, {
          method,
          headers: { authorization: `Bearer ${API_TOKEN}`, "content-type": "application/json" },
          ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
          signal: AbortSignal.timeout(10_000),
        });
        break;
      } catch (err) {
        if (k === targets.length - 1) throw err;
      }
    }
    if (res === undefined) throw new Error(`${method} ${path}: no coordinator to ask`);
    if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /**
   * POSTs the tasks as one batch and records what it was told; a failed POST (coordinator down,
   * Redis down) is retried with the same task ids — idempotent — until it is accepted or
   * `giveUpMs` passes. Resolves when the batch is accepted or given up.
   */
  submit(tasks: TaskSpec[], giveUpMs = 60_000): Promise<void> {
    const run = (async () => {
      for (const t of tasks) this.record("submitted", { task_id: t.task_id });
      const deadline = performance.now() + giveUpMs;
      while (!this.closed) {
        try {
          await this.api("POST", "/tasks", tasks);
          for (const t of tasks) this.record("accepted", { task_id: t.task_id });
          return;
        } catch (err) {
          for (const t of tasks)
            this.record("submit_failed", { task_id: t.task_id, reason: String(err).slice(0, 120) });
          if (performance.now() > deadline) return;
          await sleep(250);
        }
      }
    })();
    this.pendingSubmits.add(run);
    void run.finally(() => this.pendingSubmits.delete(run));
    return run;
  }

  /**
   * A steady load: `count` tasks made by `make`, in batches of `batch`, at about `perSecond`;
   * each batch submitted without waiting for the one before (so a slow or failed POST does not
   * hold the load back). Resolves when every batch was accepted or given up.
   */
  async load(count: number, perSecond: number, make: (i: number) => TaskSpec, batch = 10): Promise<void> {
    const started = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < count && !this.closed; i += batch) {
      const due = started + (i / perSecond) * 1000;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const tasks = Array.from({ length: Math.min(batch, count - i) }, (_, k) => make(i + k));
      all.push(this.submit(tasks));
    }
    await Promise.all(all);
  }

  /**
   * A steady load at about `perSecond` for as long as `until` has not settled (the scenario's
   * faults, say), in batches of `batch`. Resolves with the number of tasks submitted, once each
   * batch was accepted or given up; rejects if `until` does.
   */
  async loadUntil(
    until: Promise<unknown>,
    perSecond: number,
    make: (i: number) => TaskSpec,
    batch = 10,
  ): Promise<number> {
    let done = false;
    const finished = until.finally(() => {
      done = true;
    });
    const started = performance.now();
    const all: Promise<void>[] = [];
    let i = 0;
    while (!done && !this.closed) {
      all.push(this.submit(Array.from({ length: batch }, (_, k) => make(i + k))));
      i += batch;
      const wait = started + (i / perSecond) * 1000 - performance.now();
      if (wait > 0) await Promise.race([sleep(wait), finished.catch(() => {})]);
    }
    await Promise.all([finished, ...all]);
    return i;
  }

  /** Waits until no submission is in progress and Redis has no open task, or `timeoutMs` passes. */
  async settle(timeoutMs = 60_000): Promise<boolean> {
    const deadline = performance.now() + timeoutMs;
    while (performance.now() < deadline) {
      // Submissions still being retried are waited for, but not past the deadline.
      await Promise.race([
        Promise.all(this.pendingSubmits),
        sleep(Math.max(0, deadline - performance.now())),
      ]);
      const open = await this.ledger.openTaskIds().catch(() => null);
      if (open !== null && open.length === 0 && this.pendingSubmits.size === 0) return true;
      await sleep(200);
    }
    return false;
  }

  /**
   * Reads every accepted task back through the API (GET /tasks/:id), recording what the client
   * was told; the checker compares it with Redis. `concurrency` requests at a time.
   */
  async readBack(concurrency = 32): Promise<void> {
    const ids = [...new Set(this.own.filter((e) => e.op === "accepted").map((e) => e.task_id!))];
    let next = 0;
    const reader = async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const task = await this.api<{ status: string; result: unknown }>(
          "GET",
          `/tasks/${encodeURIComponent(id)}`,
        );
        this.record("observed", { task_id: id, status: task.status, result: task.result });
      }
    };
    await Promise.all(Array.from({ length: concurrency }, reader));
  }

  // --- watching the history -----------------------------------------------------------------

  /** Everything recorded so far, in time order: the agents' files and the client's and nemesis's lines. */
  history(): HistoryEvent[] {
    const theirs = this.tail.read(this.dir);
    const size = theirs.length + this.own.length;
    if (size !== this.sorted.size) this.sorted = { size, events: sortHistory([...theirs, ...this.own]) };
    return this.sorted.events;
  }

  /** Resolves once `predicate` holds (polled), rejects after `timeoutMs` saying what was awaited. */
  async waitUntil(
    predicate: () => boolean | Promise<boolean>,
    timeoutMs: number,
    what: string,
  ): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    while (!(await predicate())) {
      if (performance.now() > deadline)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      await sleep(50);
    }
  }

  /** Tasks whose latest attempt is on `workerId` and not finished (per the history so far). */
  inFlightOn(workerId: string): string[] {
    const last = new Map<string, HistoryEvent>();
    for (const e of this.history()) {
      if (e.task_id === undefined) continue;
      if (["dispatched", "committed", "retried", "reassigned", "abandoned", "assigned"].includes(e.op))
        last.set(e.task_id, e);
    }
    return [...last].filter(([, e]) => e.op === "dispatched" && e.worker === workerId).map(([id]) => id);
  }

  /**
   * heldBy, less the tasks the store says have ended: a distributor frozen (SIGSTOP) between
   * sending a commit and reading its reply has ended a task it has not logged yet, and is not
   * holding it.
   */
  async openOn(distributorId: string): Promise<string[]> {
    const open: string[] = [];
    for (const id of this.heldBy(distributorId)) {
      const task = await this.api<{ status: string }>("GET", `/tasks/${encodeURIComponent(id)}`);
      if (!isTerminalStatus(task.status)) open.push(id);
    }
    return open;
  }

  /** Open tasks placed on `distributorId`, per the history so far. */
  heldBy(distributorId: string): string[] {
    const place = new Map<string, string | null>();
    for (const e of this.history()) {
      if (e.task_id === undefined) continue;
      if ((e.op === "recorded" && e.distributor) || e.op === "assigned")
        place.set(e.task_id, e.distributor ?? null);
      if (e.op === "committed" || e.op === "abandoned") place.set(e.task_id, null);
    }
    return [...place].filter(([, d]) => d === distributorId).map(([id]) => id);
  }

  /** Waits for `agent` to record `op` (matching `fields`) after time `since`. */
  async waitForOp(
    op: string,
    fields: Partial<HistoryEvent>,
    since: number,
    timeoutMs: number,
  ): Promise<HistoryEvent> {
    let found: HistoryEvent | undefined;
    await this.waitUntil(
      () => {
        found = this.history().find(
          (e) => e.op === op && e.t >= since && Object.entries(fields).every(([k, v]) => e[k] === v),
        );
        return found !== undefined;
      },
      timeoutMs,
      `${op} ${JSON.stringify(fields)}`,
    );
    return found!;
  }

  /** The latest counters an agent recorded (its "stats" line). */
  lastStatsOf(id: string): HistoryEvent | undefined {
    return this.history()
      .filter((e) => e.op === "stats" && e.agent === id)
      .at(-1);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
