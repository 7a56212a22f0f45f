import type { TaskDict } from "../protocol.js";
import { builtinHandlers } from "../worker/handlers/index.js";
import type { WorkerEntry, WorkerRegistry } from "./worker-registry.js";

const BUILTIN_TYPES = new Set(Object.keys(builtinHandlers()));

/** Tasks this distributor asks the coordinator to move elsewhere (./hand-back-asks.ts). */
export type HandBack = { asked(taskId: string): boolean; waits(task: TaskDict): boolean };

/**
 * A task the pump means to start, the worker it goes to, and the place it had in the queue
 * (DispatchQueue.take's: where putFirst puts it back if its dispatch fails).
 */
export type Planned = { task: TaskDict; worker: WorkerEntry; place: number | undefined };

/**
 * The pump's dispatch plan: which worker each task goes to. Spreads the tasks over the workers
 * with room that run each task's type, one slot at a time, and marks each planned attempt in
 * flight on its worker (fence -1 until the dispatch script answers). Makes no store call.
 */
export class DispatchPlanner {
  readonly plan: Planned[] = [];
  private readonly free: Map<string, number>;
  private turn = 0;

  constructor(
    private readonly workers: WorkerEntry[],
    private readonly registry: WorkerRegistry,
    private readonly handBack?: HandBack,
  ) {
    this.free = new Map(workers.map((w) => [w.id, registry.free(w)]));
  }

  /**
   * Plans `task` on a worker with room that runs its type: false, and nothing planned, when only
   * busy workers run it (it waits in its place for the next round). Once false for a type, false
   * for it until the next planner: room only shrinks as tasks are planned.
   */
  add(task: TaskDict, place?: number): boolean {
    if (this.handBack?.asked(task.task_id) === true) return false; // the coordinator may move it
    const worker = pickWorker(task, this.workers, this.free, this.turn, this.registry, this.handBack);
    if (worker === undefined) return false;
    this.turn++;
    this.free.set(worker.id, (this.free.get(worker.id) ?? 1) - 1);
    worker.inFlight.set(task.task_id, { fence: -1, dispatchedAt: performance.now(), confirmed: false });
    this.plan.push({ task, worker, place });
    return true;
  }
}

/**
 * A worker with room that runs `taskType` (a worker not heard from yet is assumed to run the
 * built-ins), round robin by `turn`. When no worker runs that type at all (none alive, none dead
 * and still remembered: the dead-agent retention), and every live one has said what it runs,
 * any worker with room takes it, so the task fails at once with "unknown task type" instead of
 * waiting for ever. Before either, with no live worker here that runs it, `handBack` asks the
 * coordinator whether another distributor does (the task waits for the answer).
 * Counts, then walks to the chosen one: no array per task (this runs for every task dispatched).
 */
function pickWorker(
  task: TaskDict,
  workers: WorkerEntry[],
  free: Map<string, number>,
  turn: number,
  registry: WorkerRegistry,
  handBack: HandBack | undefined,
): WorkerEntry | undefined {
  const taskType = task.task_type;
  let withRoom = 0;
  let able = 0;
  let idle = 0;
  for (const w of workers) {
    if ((free.get(w.id) ?? 0) <= 0) continue;
    withRoom++;
    if (!runs(w, taskType)) continue;
    able++;
    if (idleSlots(w, free) > 0) idle++;
  }
  // A worker with a slot free to run it now first: queued in a busy worker's room (its
  // prefetch), a task waits behind that worker's attempts, a 20-s sleep's, while another idles.
  if (idle > 0) return nth(workers, free, turn % idle, taskType, true);
  if (able > 0) return nth(workers, free, turn % able, taskType);
  // A busy worker runs it, or one not heard from yet may (its first heartbeat says what it runs,
  // within an interval), or one that runs it died lately (kill -9 and a restart: the registry
  // forgets a dead worker after the dead-agent retention): it waits. Sent to any worker meanwhile, it would fail
  // there for good, every retry in a moment ("unknown task type") while its worker restarts.
  const all = registry.all();
  if (all.some((w) => w.status !== "dead" && waitsFor(w, taskType))) return undefined;
  // No live worker here runs it, and each has said what it runs: the coordinator is asked first
  // whether another distributor does, and moves it there (./hand-back-asks.ts); kept here, as below.
  if (handBack?.waits(task) === true) return undefined;
  if (all.some((w) => w.status === "dead" && w.taskTypes.includes(taskType))) return undefined;
  if (withRoom === 0) return undefined;
  return nth(workers, free, turn % withRoom, null);
}

/** A live worker the task waits for: it runs the type, or has not said yet what it runs. */
function waitsFor(w: WorkerEntry, taskType: string): boolean {
  return runs(w, taskType) || w.taskTypes.length === 0;
}

function runs(w: WorkerEntry, taskType: string): boolean {
  return w.taskTypes.length > 0 ? w.taskTypes.includes(taskType) : BUILTIN_TYPES.has(taskType);
}

/**
 * The slots of a worker not taken by an attempt held or planned: its room (prefetch x capacity)
 * less what it holds is `free`; what is beyond its capacity is queued there, not run.
 */
function idleSlots(w: WorkerEntry, free: Map<string, number>): number {
  return (free.get(w.id) ?? 0) - (w.prefetch - 1) * w.capacity;
}

/** The k-th (from 0) of the workers with room (`idle`: a slot free to run it now) that run `taskType` (null: any type). */
function nth(
  workers: WorkerEntry[],
  free: Map<string, number>,
  k: number,
  taskType: string | null,
  idle = false,
): WorkerEntry | undefined {
  let left = k;
  for (const w of workers) {
    if ((free.get(w.id) ?? 0) <= 0 || (taskType !== null && !runs(w, taskType))) continue;
    if (idle && idleSlots(w, free) <= 0) continue;
    if (left === 0) return w;
    left--;
  }
  return undefined;
}
