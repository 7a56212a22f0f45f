import { Gauge, type Registry } from "prom-client";
import { CANCELED_BY_CLIENT, type CoordinatorAgent } from "../agents/coordinator/coordinator-agent.js";
import { TaskWatch } from "../agents/live/task-changes.js";
import type { WorkerSummary } from "../agents/protocol.js";
import { MAX_GRAPH_NODES, taskGraph } from "../agents/workflow/task-graph.js";
import { TriadError } from "../core/errors.js";
import type { JsonObject } from "../core/json.js";
import { isTerminalStatus } from "../core/state/status.js";
import { clusterFinished, localFinished } from "./cluster-tasks.js";
import { taskCounts } from "./dashboard/cluster-view.js";
import { storeStatus } from "./dashboard/store-status.js";
import type { CoordinatorApi } from "./http-api.js";

/** The HTTP API's view of a coordinator agent. */
export function coordinatorApi(
  coordinator: CoordinatorAgent,
  metrics: Registry,
  graphNodeLimit = MAX_GRAPH_NODES,
  options: {
    /** Sent to the other coordinators when a list asks them for their windows (TRIAD_API_TOKEN). */
    apiToken?: string | undefined;
    /** How long each other coordinator has to answer (default PEER_LIST_TIMEOUT_MS). */
    peerTimeoutMs?: number | undefined;
  } = {},
): CoordinatorApi & { stopAccepting(): void } {
  let accepting = true;
  // Event streams read the store (any coordinator's or distributor's change shows), and a task
  // this coordinator hears has ended — first-hand, or from another coordinator's news — is read
  // at once. A parent's end is read once its spawned
  // tasks exist (CoordinatorCore.readTask).
  const taskWatch = new TaskWatch({ read: (id) => coordinator.core.readTask(id) });
  const unfollow = coordinator.observer.on((a) => {
    if (a.type === "terminal" || a.type === "ended_elsewhere") taskWatch.poke(a.task.task_id);
  });
  new Gauge({
    name: "triad_task_event_streams",
    help: "Tasks this coordinator follows for GET /tasks/:id/events streams (each read about 4 times a second)",
    registers: [metrics],
    collect() {
      this.set(taskWatch.watched);
    },
  });
  return {
    taskWatch,
    limits: {
      set: (taskType, limit) => coordinator.setLimit(taskType, limit),
      remove: (taskType) => coordinator.removeLimit(taskType),
      list: () => coordinator.listLimits(),
    },
    schedules: {
      upsert: (input) => coordinator.schedules.upsert(input),
      remove: (id) => coordinator.removeSchedule(id),
      get: (id) => coordinator.getSchedule(id),
      list: (page) => coordinator.schedules.page(page),
    },
    stopAccepting() {
      accepting = false;
      unfollow();
      taskWatch.stop();
    },
    async submit(task) {
      if (!accepting)
        throw new TriadError("ERR_SHUTTING_DOWN", "the coordinator is shutting down; try another or later", {
          status: 503,
        });
      const dict = { ...task, status: "pending" as const, created_at: new Date().toISOString() };
      const created = await coordinator.submitTask(dict);
      // An id already recorded answers the task as it stands (the id is the idempotency key).
      // A new one is answered as recorded even if reading it back fails: it is in the store.
      const stored = await coordinator.core.getTask(task.task_id).catch((err: unknown) => {
        if (created) return null;
        throw err;
      });
      return { task: (stored ?? dict) as unknown as JsonObject, created };
    },
    async submitGraph(tasks) {
      if (!accepting)
        throw new TriadError("ERR_SHUTTING_DOWN", "the coordinator is shutting down; try another or later", {
          status: 503,
        });
      const createdAt = new Date().toISOString();
      const dicts = tasks.map((task) => ({ ...task, status: "pending" as const, created_at: createdAt }));
      const outcomes = await coordinator.submitTasksSettled(dicts);
      return Promise.allSettled(
        outcomes.map(async (o, i) => {
          if ("error" in o) throw new TriadError(o.error.code, o.error.message, { status: 503 });
          const stored = await coordinator.core.getTask(o.task_id).catch(() => null);
          return { task: (stored ?? dicts[i]) as unknown as JsonObject, created: o.created };
        }),
      );
    },
    async graph(taskId) {
      return (await taskGraph(coordinator.ledger, taskId, graphNodeLimit)) as unknown as JsonObject | null;
    },
    async getTask(taskId, waitMs) {
      if (waitMs > 0) {
        const done = await coordinator.waitForTask(taskId, waitMs);
        if (done !== null) return done as JsonObject;
      }
      return (await coordinator.core.getTask(taskId)) as unknown as JsonObject | null;
    },
    counts() {
      const s = coordinator.core.stats;
      return {
        ...s,
        unplaced: coordinator.core.unplacedCount,
        input_required: coordinator.core.input.waiting,
      } as unknown as JsonObject;
    },
    clusterCounts() {
      return taskCounts(coordinator) as unknown as JsonObject;
    },
    async listTasks(status, limit, scope = "cluster") {
      const finishedOnly = status === undefined || isTerminalStatus(status);
      // A peer's question (scope=local): this coordinator's window only, no fan-out again.
      if (scope === "local" && finishedOnly)
        return { tasks: localFinished(coordinator, status, limit) as unknown as JsonObject[] };
      // Finished tasks: every live coordinator's window (each remembers what ended through it).
      const finished = finishedOnly
        ? await clusterFinished(coordinator, {
            status,
            limit,
            apiToken: options.apiToken,
            timeoutMs: options.peerTimeoutMs,
          })
        : null;
      const partial =
        finished && finished.unreached.length > 0
          ? { partial: true as const, unreached: finished.unreached }
          : {};
      if (finished && status !== undefined)
        return { tasks: finished.tasks as unknown as JsonObject[], ...partial };
      // Open tasks are read from the store: every coordinator's, already.
      const ids = (await coordinator.ledger.openTaskIds()).slice(0, limit * 4);
      // (One may have ended since the ids were read: readTask shows a parent's end only once its spawned tasks exist.)
      const tasks = await Promise.all(ids.map((id) => coordinator.core.readTask(id)));
      const ended = new Set(finished?.tasks.map((t) => t.task_id));
      const open = tasks
        .filter(
          (t): t is NonNullable<typeof t> =>
            t !== null && (status === undefined || t.status === status) && !ended.has(t.task_id),
        )
        .slice(0, limit);
      if (finished === null) return { tasks: open as unknown as JsonObject[] };
      return { tasks: [...open, ...finished.tasks].slice(0, limit) as unknown as JsonObject[], ...partial };
    },
    async provideInput(taskId, value, question) {
      const answer = await coordinator.core.provideInput(taskId, value, question);
      if (!answer.given && answer.reason === "unknown") return null;
      return { given: answer.given, task: (answer as { task: unknown }).task as JsonObject };
    },
    async cancel(taskId) {
      const outcome = await coordinator.core.cancel(taskId, CANCELED_BY_CLIENT);
      return outcome === null
        ? null
        : { canceled: outcome.canceled, task: outcome.task as unknown as JsonObject, below: outcome.below };
    },
    agents() {
      return agentList(coordinator);
    },
    async metrics() {
      return { contentType: metrics.contentType, body: await metrics.metrics() };
    },
  };
}

/**
 * Every agent of every tier: id, tier, status, last heartbeat, and what each reports. `load` is
 * what an agent holds; of it, `running` is what handlers run now (a worker's at most its
 * capacity, a distributor's the sum of its live workers') and `queued` the rest (a coordinator's:
 * tasks waiting for a distributor). A dead agent that said it stops before it went silent (a
 * graceful stop, a rolling restart) carries `stopped: true`; a crashed one does not. A worker
 * last heard alive through a distributor that crashed is `unknown` with `reason:
 * "distributor_dead"`: its process may well run on, only no one reports on it any more.
 */
export function agentList(coordinator: CoordinatorAgent): JsonObject[] {
  const out: JsonObject[] = [
    {
      id: coordinator.agentId,
      tier: "coordinator",
      status: "idle",
      last_heartbeat: new Date().toISOString(),
      parent: null,
      load: coordinator.core.unplacedCount,
      queued: coordinator.core.unplacedCount,
      done:
        coordinator.core.stats.completed + coordinator.core.stats.failed + coordinator.core.stats.abandoned,
      // As the others list it (its view's url): every coordinator shows the same row for it.
      url: coordinator.url,
      shards: coordinator.cluster.leases.owned(),
      ...storeDown(coordinator),
    },
  ];
  // The other coordinators of the store, as their views (alive within the heartbeat timeout) say.
  for (const peer of coordinator.cluster.peers.others()) {
    const s = peer.stats ?? {};
    out.push({
      id: peer.id,
      tier: "coordinator",
      status: "idle",
      last_heartbeat: peer.published_at ?? null, // its view, written every heartbeat tick
      parent: null,
      load: peer.waiting ?? 0,
      queued: peer.waiting ?? 0,
      done: (s.completed ?? 0) + (s.failed ?? 0) + (s.abandoned ?? 0),
      url: peer.url,
      shards: peer.shards ?? [],
    });
  }
  // Those seen alive, then gone (crashed, or stopped gracefully), for the dead-agent retention.
  for (const { view, stopped } of coordinator.cluster.peers.dead()) {
    const s = view.stats ?? {};
    out.push({
      id: view.id,
      tier: "coordinator",
      status: "dead",
      last_heartbeat: view.published_at ?? null,
      parent: null,
      load: 0,
      queued: 0,
      done: (s.completed ?? 0) + (s.failed ?? 0) + (s.abandoned ?? 0),
      url: view.url,
      shards: [],
      ...(stopped ? { stopped: true } : {}),
    });
  }
  for (const d of coordinator.core.directory.all()) {
    // A dead one holds nothing any more (its tasks are being moved), nor do its workers.
    const dead = d.status === "dead";
    const load = dead ? 0 : d.load;
    const running = Math.min(load, dead ? 0 : d.workers.reduce((sum, w) => sum + runningOf(w), 0));
    out.push({
      id: d.id,
      tier: "distributor",
      status: d.status,
      last_heartbeat: d.lastHeartbeatAt,
      parent: d.via ?? coordinator.agentId,
      load,
      running,
      queued: load - running,
      capacity: d.capacity,
      done: d.done,
      url: d.url,
      // Dead after its last heartbeat said it stops: a graceful stop, not a crash.
      ...(dead && d.stopped === true ? { stopped: true } : {}),
    });
    for (const w of d.workers) {
      const wLoad = dead ? 0 : w.load;
      const wRunning = dead ? 0 : runningOf(w);
      // Stopped: it said so itself, or it was alive when its distributor stopped gracefully.
      const stopped = w.status === "dead" ? w.stopped === true : dead && d.stopped === true;
      // Alive when its distributor crashed: nobody hears it now, which says nothing of its process.
      const unheard = dead && !stopped && w.status !== "dead";
      out.push({
        id: w.id,
        tier: "worker",
        status: unheard ? "unknown" : dead ? "dead" : w.status,
        ...(unheard ? { reason: "distributor_dead" } : {}),
        last_heartbeat: w.last_heartbeat,
        parent: d.id,
        load: wLoad,
        running: wRunning,
        queued: wLoad - wRunning,
        capacity: w.capacity,
        done: w.done,
        task_types: w.task_types,
        ...(w.remote_agents ? { remote_agents: w.remote_agents } : {}),
        ...(stopped ? { stopped: true } : {}),
      });
    }
  }
  return out;
}

/** What a worker's handlers run now: as its distributor said, else (an older distributor) what of its load fits its capacity. */
function runningOf(w: WorkerSummary): number {
  return w.status === "dead" ? 0 : Math.min(w.load, w.capacity, w.running ?? w.capacity);
}

/** The asked coordinator's store outage, for `triad status` to say the cluster cannot serve. */
function storeDown(coordinator: CoordinatorAgent): JsonObject {
  const store = storeStatus(coordinator);
  return store.reachable ? {} : { store_unreachable_since: store.unreachable_since };
}
