import { Annotation, END, interrupt, START, StateGraph } from "@langchain/langgraph";
import { emptyCheckpoint } from "@langchain/langgraph-checkpoint";
import { describe, expect, it } from "vitest";
import { expireEndedThreads } from "../../../src/agents/distributor/checkpoint-retention.js";
import type { HandlerContext, JsonValue, Task, TaskDict, TaskHandler } from "../../../src/index.js";
import { FAST, type TestCluster } from "../../helpers/cluster.js";
import { clusterPerTest, testEngines } from "../../helpers/engines.js";
import { sleep } from "../../helpers/wait.js";

/**
 * Human input (SPEC "Waiting for input"): an attempt that asks ends input_required, holding no
 * worker; the first answer wins and the task runs again on any worker — a function handler with
 * ctx.inputs, a graph resumed from the distributor's checkpoint — across worker and distributor
 * crashes; a wait that runs out ends abandoned; a waiting task can be canceled.
 */

async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 8000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v) || performance.now() > deadline) return v;
    await sleep(20);
  }
}

/** Asks twice, then answers with what it was given. */
const twoQuestions = (task: Task, ctx: HandlerContext): JsonValue => {
  if (ctx.inputs.length < 2)
    ctx.requestInput({ question: ctx.inputs.length + 1, about: task.payload.topic! });
  return { answers: ctx.inputs };
};

type StepRun = { node: string; t: number };
/** Runs of `node` that started after `t`. */
const ranAfter = (trace: StepRun[], node: string, t: number) =>
  trace.filter((r) => r.node === node && r.t > t);

/**
 * draft -> approve (interrupt) -> send, each step counted and traced with its start time;
 * approve asks twice (one interrupt after another).
 */
function approvalGraph(runs: Record<string, number>, trace: StepRun[] = []) {
  const State = Annotation.Root({
    log: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
  });
  const count = (name: string) => {
    runs[name] = (runs[name] ?? 0) + 1;
    trace.push({ node: name, t: performance.now() });
  };
  return new StateGraph(State)
    .addNode("draft", () => {
      count("draft");
      return { log: ["draft"] };
    })
    .addNode("approve", () => {
      count("approve");
      const first = interrupt({ approve: "the draft?" }) as string;
      const second = interrupt({ really: "sure?" }) as string;
      return { log: [`approved:${first}/${second}`] };
    })
    .addNode("send", () => {
      count("send");
      const to = interrupt({ to: "whom?" }) as string;
      return { log: [`sent to ${to}`] };
    })
    .addEdge(START, "draft")
    .addEdge("draft", "approve")
    .addEdge("approve", "send")
    .addEdge("send", END)
    .compile();
}

describe.each(testEngines("human-input", { cluster: true }))("human input on $name", (engine) => {
  const newCluster = clusterPerTest(engine);
  let cluster: TestCluster | undefined;

  const read = (id: string) => () => cluster!.coordinator.core.getTask(id) as Promise<TaskDict | null>;
  const waiting = (t: TaskDict | null) => t?.status === "input_required";

  /** One distributor and one worker running approvalGraph; `asking` tasks submitted and asked their first question. */
  const askingGraphs = async <const N extends readonly string[]>(names: N, trace: StepRun[] = []) => {
    const handlers = { approval: approvalGraph({}, trace) as unknown as TaskHandler<Task> };
    cluster = newCluster({ handlers });
    const d1 = await cluster.startOne();
    const ids = names.map((name) => cluster!.id(name)) as unknown as { [K in keyof N]: string };
    for (const id of ids)
      await cluster.coordinator.submitTask({ task_id: id, task_type: "approval", payload: {} });
    for (const id of ids)
      expect(await until(read(id), waiting)).toMatchObject({ input_request: { approve: "the draft?" } });
    return { d1, c: cluster.coordinator, ids };
  };

  it("a function handler asks, holds no worker while it waits, and runs again with ctx.inputs; the first answer wins", async () => {
    const handlers = { ask: twoQuestions, echo: (t: Task) => t.payload } as Record<string, TaskHandler<Task>>;
    cluster = newCluster({ handlers, concurrency: 1 });
    await cluster.startOne();
    const c = cluster.coordinator;
    const id = cluster.id("ask");
    await c.submitTask({ task_id: id, task_type: "ask", payload: { topic: "lunch" } });
    const asked = await until(read(id), waiting);
    expect(asked).toMatchObject({ status: "input_required", input_request: { question: 1, about: "lunch" } });
    expect(asked?.assigned_to).toBeNull();
    // The only slot is free: another task runs while this one waits.
    const other = cluster.id("other");
    await c.submitTask({ task_id: other, task_type: "echo", payload: { x: 1 } });
    expect(await c.waitForTask(other, 5000)).toMatchObject({ status: "completed" });
    expect(cluster.distributors.get("d1")!.core.load).toBe(0);

    expect(await c.provideInput(id, "soup")).toBe(true);
    expect(await c.provideInput(id, "salad")).toBe(false); // answered already: the first wins
    const again = await until(read(id), (t) => waiting(t) && (t?.inputs?.length ?? 0) === 1);
    expect(again).toMatchObject({ input_request: { question: 2 }, inputs: ["soup"] });
    // An answer to the first question (read off a stale page) cannot answer the second.
    expect(await c.provideInput(id, "late soup", { question: 0 })).toBe(false);
    expect(await c.provideInput(id, { n: 2 }, { question: 1 })).toBe(true);
    const done = await c.waitForTask(id, 8000);
    expect(done).toMatchObject({ status: "completed", result: { answers: ["soup", { n: 2 }] } });
    expect(await c.provideInput(id, "late")).toBe(false);
    expect(await c.provideInput(cluster.id("nobody"), 1)).toBe(false);
  });

  it("a function handler that asks with no question (ctx.requestInput()) waits with a null input_request, and runs again when answered", async () => {
    const handlers = {
      bare: (_t: Task, ctx: HandlerContext) =>
        ctx.inputs.length === 0 ? ctx.requestInput(undefined) : ctx.inputs,
    } as Record<string, TaskHandler<Task>>;
    cluster = newCluster({ handlers });
    await cluster.startOne();
    const c = cluster.coordinator;
    const id = cluster.id("bare");
    await c.submitTask({ task_id: id, task_type: "bare", payload: {} });
    const asked = await until(read(id), (t) => waiting(t) || t?.status === "failed");
    expect(asked).toMatchObject({ status: "input_required", input_request: null });
    expect(await c.provideInput(id, "here")).toBe(true);
    expect(await c.waitForTask(id, 8000)).toMatchObject({ status: "completed", result: ["here"] });
  });

  it("a wait past input_timeout_ms ends abandoned; a waiting task can be canceled", async () => {
    cluster = newCluster({
      handlers: { ask: twoQuestions } as Record<string, TaskHandler<Task>>,
    });
    await cluster.startOne();
    const c = cluster.coordinator;
    const [slow, gone] = [cluster.id("times-out"), cluster.id("canceled")];
    await c.submitTask({ task_id: slow, task_type: "ask", payload: { topic: "a" }, input_timeout_ms: 300 });
    await c.submitTask({ task_id: gone, task_type: "ask", payload: { topic: "b" } });
    expect(await until(read(gone), waiting)).toMatchObject({ status: "input_required" });
    expect(await c.cancelTask(gone)).toBe(true);
    expect(await c.provideInput(gone, 1)).toBe(false);
    const ended = await c.waitForTask(slow, 8000);
    expect(ended).toMatchObject({ status: "abandoned", input_timeout_ms: 300 });
    expect(ended?.error).toMatch(/no input was given within 300 ms/);
    expect(await c.provideInput(slow, 1)).toBe(false);
    expect((await c.core.getTask(gone))?.status).toBe("abandoned");
  });

  /**
   * The approval graph run to the end, each checkpoint's storing held for `delay(n)` ms (n: how
   * many checkpoints (puts, not writes) came before it).
   */
  async function approvalWithSlowStores(delay: (n: number) => number): Promise<void> {
    const runs: Record<string, number> = {};
    cluster = newCluster({
      handlers: { approval: approvalGraph(runs) as unknown as TaskHandler<Task> },
      // Nothing here is about failure detection: a worker falsely declared dead on a loaded host
      // (400 ms of silence) would have its attempt run again, and "draft ran once" could not be
      // told from that (a loaded run saw draft run twice).
      timing: { ...FAST, heartbeatTimeoutMs: 20_000 },
    });
    const d1 = await cluster.startOne();
    const store = d1.checkpoints.importTransfer.bind(d1.checkpoints);
    let puts = 0;
    d1.checkpoints.importTransfer = async (...args: Parameters<typeof store>) => {
      const put = (args[0] as { kind?: string }).kind === "checkpoint";
      await sleep(delay(put ? puts++ : puts)); // the storing held on purpose: the scenario's slow store
      return store(...args);
    };
    const c = cluster.coordinator;
    const id = cluster.id("slow-checkpoint");
    await c.submitTask({ task_id: id, task_type: "approval", payload: {} });
    // Answered the moment the question shows: the resume reads the checkpoints stored by then.
    for (const answer of ["yes", "really", "bob"]) {
      const asked = await until(read(id), (t) => waiting(t) || t?.status === "completed");
      expect(asked?.status).toBe("input_required");
      expect(await c.provideInput(id, answer)).toBe(true);
      await until(read(id), (t) => !waiting(t));
    }
    const done = await c.waitForTask(id, 15_000);
    expect(done).toMatchObject({
      status: "completed",
      result: { log: ["draft", "approved:yes/really", "sent to bob"] },
    });
    // draft ran once: every resume started at its interrupt, not from an older checkpoint.
    expect(runs.draft).toBe(1);
  }

  it("a graph's last checkpoint stored slowly: its question is committed only once it is in, and the answer resumes at the interrupt", async () => {
    // Every checkpoint the worker relays takes 300 ms to be stored (a slow store, a loaded machine):
    // the interrupt's outcome, sent right after its checkpoint, arrives while it is being stored.
    await approvalWithSlowStores(() => 300);
  }, 30_000);

  it("a graph's checkpoints whose stores would end out of order are stored in the order they were sent", async () => {
    // Each checkpoint is stored faster than the one before it (400, 250, 100 ms, again): left to
    // run side by side, an earlier one would be stored after a later one and become the thread's
    // head (the one stored last), and the resume after an answer would start before the interrupt.
    await approvalWithSlowStores((n) => 400 - 150 * (n % 3));
  }, 30_000);

  it("a graph interrupts three times and resumes from the distributor's checkpoint on other workers, after its worker and its distributor die", async () => {
    const runs: Record<string, number> = {};
    const trace: StepRun[] = [];
    const answered: number[] = [];
    const handlers = { approval: approvalGraph(runs, trace) as unknown as TaskHandler<Task> };
    cluster = newCluster({ handlers });
    await cluster.startOne();
    const w1 = cluster.workers.get("w1")!;
    const c = cluster.coordinator;
    const id = cluster.id("approval");
    await c.submitTask({ task_id: id, task_type: "approval", payload: {} });
    expect(await until(read(id), waiting)).toMatchObject({ input_request: { approve: "the draft?" } });

    // The worker dies while the task waits: nothing to take back, it holds no attempt.
    await cluster.crash(w1);
    await cluster.startWorker("w2", "d1");
    answered.push(performance.now());
    expect(await c.provideInput(id, "yes")).toBe(true);
    const second = await until(read(id), (t) => waiting(t) && t?.inputs?.length === 1);
    expect(second).toMatchObject({ input_request: { really: "sure?" }, inputs: ["yes"] });

    // The distributor dies before the next input arrives; another takes the task once given.
    await cluster.crash(cluster.distributors.get("d1")!);
    await cluster.startDistributor("d2");
    await cluster.startWorker("w3", "d2");
    await until(
      async () => c.core.directory.get(cluster!.id("d2"))?.capacity ?? 0,
      (n) => n > 0,
    );
    answered.push(performance.now());
    expect(await c.provideInput(id, "sure")).toBe(true);
    const third = await until(read(id), (t) => waiting(t) && t?.inputs?.length === 2);
    expect(third).toMatchObject({ input_request: { to: "whom?" } });
    answered.push(performance.now());
    expect(await c.provideInput(id, "bob")).toBe(true);
    const done = await c.waitForTask(id, 10_000);
    expect(done).toMatchObject({
      status: "completed",
      assigned_to: cluster.id("w3"),
      inputs: ["yes", "sure", "bob"],
    });
    expect(done?.result).toMatchObject({ log: ["draft", "approved:yes/sure", "sent to bob"] });
    // No step before an answered interrupt ran again once the answer was given: a resume starts
    // at the interrupt, from the checkpoint (none skipped: the result has every step).
    expect(ranAfter(trace, "draft", answered[0]!)).toEqual([]);
    expect(ranAfter(trace, "approve", answered[2]!)).toEqual([]);
    // Exactly once per resume: draft once; approve at its two asks and once more to finish; send
    // at its ask and once to finish — unless an attempt was refused by its fence (a worker starved
    // on a loaded machine and declared dead runs again: execution is at-least-once).
    if (cluster.stale.length === 0) expect(runs).toEqual({ draft: 1, approve: 3, send: 2 });
  }, 30_000);

  it("an answered graph whose checkpoint cannot be read at dispatch is held back, not sent to start over", async () => {
    const trace: StepRun[] = [];
    const incomplete: string[] = [];
    const {
      d1,
      c,
      ids: [id],
    } = await askingGraphs(["unreadable-checkpoint"], trace);
    // The first read of the checkpoint for the resumed attempt fails (a store timeout, say).
    const exportThread = d1.checkpoints.exportThread.bind(d1.checkpoints);
    let failures = 1;
    d1.checkpoints.exportThread = async (threadId: string) => {
      if (failures-- > 0) {
        incomplete.push(threadId);
        throw new Error("checkpoint read failed (test)");
      }
      return exportThread(threadId);
    };
    const answered = performance.now();
    expect(await c.provideInput(id, "yes")).toBe(true);
    // Sent without its checkpoint the graph would start over: draft again, "the draft?" again.
    const next = await until(read(id), (t) => waiting(t) && t?.inputs?.length === 1, 15_000);
    expect(incomplete).toEqual([id]);
    expect(next).toMatchObject({ input_request: { really: "sure?" }, inputs: ["yes"] });
    expect(ranAfter(trace, "draft", answered)).toEqual([]);
  }, 30_000);

  it("an answered graph whose checkpoint can never be read is given up on, abandoned with the reason", async () => {
    const {
      d1,
      c,
      ids: [id],
    } = await askingGraphs(["corrupt-checkpoint"]);
    let reads = 0;
    d1.checkpoints.exportThread = async () => {
      reads++;
      throw new Error("unreadable checkpoint (test)");
    };
    expect(await c.provideInput(id, "yes")).toBe(true);
    const ended = await c.waitForTask(id, 20_000);
    expect(ended).toMatchObject({ status: "abandoned" });
    expect(ended?.error).toMatch(/could not be read 5 times in a row: unreadable checkpoint \(test\)/);
    expect(reads).toBe(5);
  }, 30_000);

  it("the checkpoints of a task that ended get its record's retention; those of a waiting task, and threads of no task, are kept", async () => {
    const {
      d1,
      c,
      ids: [ended, waits, short],
    } = await askingGraphs(["ended", "waits", "short"]);
    expect(await c.cancelTask(ended)).toBe(true); // ended the coordinator's way: no commit here
    expect(await c.cancelTask(short)).toBe(true);
    // A thread a program keeps through its own saver on the same store: no task of that id.
    const own = cluster!.id("own-thread");
    await d1.checkpoints.put({ configurable: { thread_id: own, checkpoint_ns: "" } }, emptyCheckpoint(), {
      source: "input",
      step: -1,
      parents: {},
    });
    const forever = async () => {
      const ids: string[] = [];
      for await (const shard of d1.checkpoints.threadsKeptForever()) ids.push(...shard);
      return ids;
    };
    expect(await forever()).toEqual(expect.arrayContaining([ended, waits, short, own]));

    // A short retention for one, to see it go; then the sweep gives the other its record's.
    const ledger = d1.ledger;
    const onlyShort = await expireEndedThreads(
      {
        threadsKeptForever: async function* () {
          yield [short];
        },
        expireThread: (id: string, ms: number) => d1.checkpoints.expireThread(id, ms),
      } as unknown as typeof d1.checkpoints,
      ledger,
      300,
    );
    expect(onlyShort).toBe(1);
    expect(await d1.expireEndedCheckpoints()).toBe(1); // `ended` (short expires already)
    expect(await d1.expireEndedCheckpoints()).toBe(0);
    const left = await forever();
    expect(left).toEqual(expect.arrayContaining([waits, own]));
    expect(left).not.toContain(ended);
    expect(left).not.toContain(short);
    const tuple = (id: string) => d1.checkpoints.getTuple({ configurable: { thread_id: id } });
    expect(await tuple(ended)).toBeDefined(); // kept for the retention (24 h)
    await until(
      () => tuple(short),
      (t) => t === undefined,
    );
    expect(await tuple(short)).toBeUndefined();
    // The waiting task still resumes from its checkpoint.
    expect(await c.provideInput(waits, "yes")).toBe(true);
    expect(await until(read(waits), (t) => waiting(t) && t?.inputs?.length === 1)).toMatchObject({
      input_request: { really: "sure?" },
    });
  }, 30_000);

  it("a worker that dies after its graph interrupted, before the question was committed: the next attempt asks again without running the graph", async () => {
    const runs: Record<string, number> = {};
    const trace: StepRun[] = [];
    const handlers = { approval: approvalGraph(runs, trace) as unknown as TaskHandler<Task> };
    cluster = newCluster({ handlers });
    await cluster.startOne();
    const w1 = cluster.workers.get("w1")!;
    // w1's outcomes never arrive: it asked (its checkpoint reached the distributor), then it died.
    const router = cluster.router;
    const deliver = router.deliver.bind(router);
    router.deliver = (m, ...rest) =>
      m.sender === w1.agentId && m.payload.event_type === "task_results"
        ? { accepted: false as const, reason: "busy" as const, detail: "dropped by the test" }
        : deliver(m, ...rest);
    const c = cluster.coordinator;
    const id = cluster.id("asked-then-died");
    await c.submitTask({ task_id: id, task_type: "approval", payload: {} });
    await until(
      async () => w1.core.pendingResults,
      (n) => n > 0,
    );
    await cluster.crash(w1);
    const crashed = performance.now();
    await cluster.startWorker("w2", "d1");
    const asked = await until(read(id), waiting);
    expect(asked).toMatchObject({ input_request: { approve: "the draft?" } });
    // Asked again from the checkpoint, not by running: no step ran after w1 died.
    expect(trace.filter((r) => r.t > crashed)).toEqual([]);
    expect(await c.provideInput(id, "ok")).toBe(true);
    expect(await until(read(id), (t) => waiting(t) && t?.inputs?.length === 1)).toMatchObject({
      input_request: { really: "sure?" },
    });
    expect(ranAfter(trace, "draft", crashed)).toEqual([]);
    // The resume of the answered interrupt (once, unless an attempt was refused by its fence).
    expect(ranAfter(trace, "approve", crashed).length).toBeGreaterThanOrEqual(1);
    if (cluster.stale.length === 0) expect(ranAfter(trace, "approve", crashed)).toHaveLength(1);
    // The coordinator's wake-up counts it (the dashboard's "Needs input", /metrics).
    await until(
      async () => c.core.input.waiting,
      (n) => n === 1,
    );
  }, 30_000);
});
