import { describe, expect, it } from "vitest";
import { isTriadError, Task, TaskStatus } from "../../../src/index.js";

const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function expectCode(fn: () => unknown, code: string, message?: RegExp): void {
  try {
    fn();
  } catch (err) {
    expect(isTriadError(err, code), `expected ${code}, got ${String(err)}`).toBe(true);
    if (message) expect((err as Error).message).toMatch(message);
    return;
  }
  throw new Error(`expected a TriadError ${code}`);
}

describe("Task", () => {
  it("refuses a key new Task() does not take, naming it and the one meant", () => {
    // It said `invalid task.task_id: ... received undefined`, naming neither.
    expectCode(
      () => new Task({ taskid: "x", taskType: "echo" } as never),
      "ERR_INVALID_TASK",
      /^new Task\(\): unknown key taskid \(did you mean taskId\?\)/,
    );
    // The dict's snake_case keys are Task.fromDict's: refused, saying so.
    expectCode(
      () => new Task({ task_id: "x", task_type: "echo" } as never),
      "ERR_INVALID_TASK",
      /unknown key task_id; it takes the camelCase names \(taskId\), Task\.fromDict\(\) the dict's snake_case keys/,
    );
    expectCode(
      () => new Task({ taskId: "x", taskType: "echo", payloadd: {} } as never),
      "ERR_INVALID_TASK",
      /payloadd \(did you mean payload\?\)/,
    );
    expect(Task.fromDict({ task_id: "x", task_type: "echo" }).taskId).toBe("x");
  });

  it("starts pending with the seed's defaults", () => {
    const task = new Task({ taskId: "task-1", taskType: "compute", payload: { operation: "sum" } });
    expect(task.status).toBe(TaskStatus.PENDING);
    expect(task.attempts).toBe(0);
    expect(task.result).toBeNull();
    expect(task.error).toBeNull();
    expect(task.assignedTo).toBeNull();
    expect(task.fencingToken).toBeNull();
    expect(task.createdAt).toMatch(ISO_UTC);
    expect(task.startedAt).toBeNull();
    expect(task.completedAt).toBeNull();
    expect(new Task({ taskId: "t", taskType: "echo" }).payload).toEqual({});
  });

  it("runs the happy life cycle: started, completed with a result", () => {
    const task = new Task({ taskId: "task-1", taskType: "compute" });
    task.markStarted();
    expect(task.status).toBe(TaskStatus.IN_PROGRESS);
    expect(task.attempts).toBe(1);
    expect(task.startedAt).toMatch(ISO_UTC);
    task.markCompleted({ result: 42 });
    expect(task.status).toBe(TaskStatus.COMPLETED);
    expect(task.result).toEqual({ result: 42 });
    expect(task.completedAt).toMatch(ISO_UTC);
    expect(task.isTerminal).toBe(true);
  });

  it("fails with the error, from in_progress or straight from pending", () => {
    const running = new Task({ taskId: "a", taskType: "x" });
    running.markStarted();
    running.markFailed("boom");
    expect(running.status).toBe(TaskStatus.FAILED);
    expect(running.error).toBe("boom");
    const unstartable = new Task({ taskId: "b", taskType: "nope" });
    unstartable.markFailed("unknown task type nope");
    expect(unstartable.status).toBe(TaskStatus.FAILED);
    expect(unstartable.attempts).toBe(0);
  });

  it("refuses illegal transitions with ERR_ILLEGAL_TRANSITION naming both ends", () => {
    const pending = new Task({ taskId: "p", taskType: "x" });
    expectCode(() => pending.markCompleted(1), "ERR_ILLEGAL_TRANSITION", /from pending to completed/);
    const done = new Task({ taskId: "d", taskType: "x" });
    done.markStarted();
    done.markCompleted(null);
    expectCode(() => done.markStarted(), "ERR_ILLEGAL_TRANSITION", /from completed to in_progress/);
    expectCode(() => done.markFailed("late"), "ERR_ILLEGAL_TRANSITION", /from completed to failed/);
    expectCode(() => done.resetForRetry(), "ERR_ILLEGAL_TRANSITION");
    expectCode(() => done.reassign("w2", 5), "ERR_ILLEGAL_TRANSITION");
    const running = new Task({ taskId: "r", taskType: "x" });
    running.markStarted();
    expectCode(() => running.markStarted(), "ERR_ILLEGAL_TRANSITION", /in_progress to in_progress/);
    expectCode(() => running.assign("w1"), "ERR_ILLEGAL_TRANSITION");
    const abandoned = new Task({ taskId: "a", taskType: "x" });
    abandoned.markAbandoned("no workers");
    expectCode(() => abandoned.resetForRetry(), "ERR_ILLEGAL_TRANSITION", /abandoned to pending/);
    // a refused change leaves the task as it was
    expect(done.status).toBe(TaskStatus.COMPLETED);
  });

  it("retries: failed or in_progress goes back to pending, attempts are kept", () => {
    const task = new Task({ taskId: "t", taskType: "x" });
    task.assign("w1", 1);
    task.markStarted();
    task.markFailed("worker crashed");
    task.resetForRetry();
    expect(task.status).toBe(TaskStatus.PENDING);
    expect(task.error).toBeNull();
    expect(task.assignedTo).toBeNull();
    expect(task.startedAt).toBeNull();
    task.assign("w2", 2);
    task.markStarted();
    expect(task.attempts).toBe(2);
    expect(task.fencingToken).toBe(2);
  });

  it("reassigns a running task to a new owner under a newer fencing token, never an older one", () => {
    const task = new Task({ taskId: "t", taskType: "x" });
    task.assign("w1", 7);
    task.markStarted();
    task.reassign("w2", 8);
    expect(task.status).toBe(TaskStatus.PENDING);
    expect(task.assignedTo).toBe("w2");
    expect(task.fencingToken).toBe(8);
    expect(task.attempts).toBe(1);
    expectCode(() => task.reassign("w3", 3), "ERR_STALE_FENCING_TOKEN", /older than the current 8/);
    expect(task.assignedTo).toBe("w2");
  });

  it("abandons a pending or running task with the reason", () => {
    const task = new Task({ taskId: "t", taskType: "x" });
    task.markStarted();
    task.markAbandoned("attempts exhausted (3)");
    expect(task.status).toBe(TaskStatus.ABANDONED);
    expect(task.error).toBe("attempts exhausted (3)");
    expect(task.completedAt).toMatch(ISO_UTC);
  });

  describe('waiting for input (SPEC "Waiting for input")', () => {
    function running(id = "t"): Task {
      const task = new Task({ taskId: id, taskType: "approval", inputTimeoutMs: 60_000 });
      task.assign("w1", 3);
      task.markStarted();
      return task;
    }

    it("a running attempt asks for input: input_required, no owner, not terminal, attempts and fence kept", () => {
      const task = running();
      task.markInputRequired({ question: "send it?" });
      expect(task.status).toBe(TaskStatus.INPUT_REQUIRED);
      expect(task.inputRequest).toEqual({ question: "send it?" });
      expect(task.assignedTo).toBeNull();
      expect(task.isTerminal).toBe(false);
      expect(task.attempts).toBe(1);
      expect(task.fencingToken).toBe(3);
      expect(task.completedAt).toBeNull();
      expect(task.toDict()).toMatchObject({
        status: "input_required",
        input_request: { question: "send it?" },
      });
    });

    it("an answer moves it back to pending with the value appended to inputs; the next attempt asks again", () => {
      const task = running();
      task.markInputRequired("which account?");
      task.provideInput({ account: "ops" });
      expect(task.status).toBe(TaskStatus.PENDING);
      expect(task.inputs).toEqual([{ account: "ops" }]);
      expect(task.inputRequest).toBeUndefined();
      expect(Object.keys(task.toDict())).not.toContain("input_request");
      expect(task.startedAt).toBeNull();
      task.assign("w2", 4);
      task.markStarted();
      expect(task.attempts).toBe(2);
      task.markInputRequired("approve?");
      task.provideInput(true, 1);
      expect(task.inputs).toEqual([{ account: "ops" }, true]);
      task.assign("w1", 5);
      task.markStarted();
      task.markCompleted("sent");
      expect(task.toDict()).toMatchObject({
        status: "completed",
        result: "sent",
        inputs: [{ account: "ops" }, true],
      });
    });

    it("the first answer wins: a second one, or one to an earlier question, is refused and changes nothing", () => {
      const task = running();
      task.markInputRequired("first?");
      task.provideInput("a");
      expectCode(
        () => task.provideInput("b"),
        "ERR_ILLEGAL_TRANSITION",
        /from pending to pending: it is not waiting for input/,
      );
      task.assign("w1", 4);
      task.markStarted();
      task.markInputRequired("second?");
      expectCode(
        () => task.provideInput("late", 0),
        "ERR_ILLEGAL_TRANSITION",
        /asks question 1 now, not question 0/,
      );
      expect(task.status).toBe(TaskStatus.INPUT_REQUIRED);
      expect(task.inputs).toEqual(["a"]);
      expect(task.inputRequest).toBe("second?");
    });

    it("refuses the moves the ledger never makes, naming both ends", () => {
      const pending = new Task({ taskId: "p", taskType: "x" });
      expectCode(
        () => pending.markInputRequired("?"),
        "ERR_ILLEGAL_TRANSITION",
        /from pending to input_required/,
      );
      expectCode(() => pending.provideInput(1), "ERR_ILLEGAL_TRANSITION", /from pending to pending/);
      const waiting = running("w");
      waiting.markInputRequired("?");
      expectCode(() => waiting.markStarted(), "ERR_ILLEGAL_TRANSITION", /from input_required to in_progress/);
      expectCode(
        () => waiting.markCompleted(1),
        "ERR_ILLEGAL_TRANSITION",
        /from input_required to completed/,
      );
      expectCode(() => waiting.markFailed("x"), "ERR_ILLEGAL_TRANSITION", /from input_required to failed/);
      expectCode(
        () => waiting.markInputRequired("again"),
        "ERR_ILLEGAL_TRANSITION",
        /input_required to input_required/,
      );
      expectCode(() => waiting.resetForRetry(), "ERR_ILLEGAL_TRANSITION", /from input_required to pending/);
      expectCode(() => waiting.reassign("w2", 9), "ERR_ILLEGAL_TRANSITION", /from input_required to pending/);
      expectCode(() => waiting.assign("w2", 9), "ERR_ILLEGAL_TRANSITION");
      expectCode(() => waiting.update({ status: TaskStatus.PENDING }), "ERR_ILLEGAL_TRANSITION");
      expect(waiting.status).toBe(TaskStatus.INPUT_REQUIRED);
      expect(waiting.inputRequest).toBe("?");
      const running2 = running("r");
      expectCode(
        () => running2.update({ status: TaskStatus.INPUT_REQUIRED }),
        "ERR_INVALID_TASK",
        /markInputRequired/,
      );
      const done = running("d");
      done.markCompleted(null);
      expectCode(
        () => done.markInputRequired("?"),
        "ERR_ILLEGAL_TRANSITION",
        /from completed to input_required/,
      );
      expectCode(() => done.provideInput("late"), "ERR_ILLEGAL_TRANSITION", /from completed to pending/);
      expect(done.status).toBe(TaskStatus.COMPLETED);
    });

    it("refuses a request or an input that is not JSON, and a bad question number", () => {
      const task = running();
      expectCode(() => task.markInputRequired(undefined as never), "ERR_INVALID_TASK", /needs the request/);
      expectCode(
        () => task.markInputRequired({ n: Number.NaN }),
        "ERR_INVALID_JSON",
        /input request of task t\.n/,
      );
      expect(task.status).toBe(TaskStatus.IN_PROGRESS);
      task.markInputRequired("?");
      expectCode(() => task.provideInput(undefined as never), "ERR_INVALID_INPUT", /needs a value/);
      expectCode(() => task.provideInput({ f: (() => 1) as never }), "ERR_INVALID_INPUT", /the input\.f/);
      expectCode(() => task.provideInput(1, -1), "ERR_INVALID_INPUT", /question must be an integer/);
      expect(task.status).toBe(TaskStatus.INPUT_REQUIRED);
      expect(task.inputs).toBeUndefined();
    });

    it("a waiting task is abandoned (canceled, or no input in time) and keeps what it asked; then final", () => {
      const task = running();
      task.markInputRequired({ question: "ok?" });
      task.markAbandoned("no input was given within 60000 ms (input_timeout_ms)");
      expect(task.status).toBe(TaskStatus.ABANDONED);
      expect(task.error).toMatch(/input_timeout_ms/);
      expect(task.completedAt).toMatch(ISO_UTC);
      expect(task.inputRequest).toEqual({ question: "ok?" });
      expectCode(() => task.provideInput("too late"), "ERR_ILLEGAL_TRANSITION", /from abandoned to pending/);
    });

    it("round-trips input_request, input_timeout_ms and inputs through toDict/fromDict and clone", () => {
      const task = running();
      task.markInputRequired("first?");
      task.provideInput({ n: 1 });
      task.assign("w1", 4);
      task.markStarted();
      task.markInputRequired({ question: "second?", options: ["a", "b"] });
      const dict = task.toDict();
      expect(dict).toMatchObject({
        status: "input_required",
        input_request: { question: "second?", options: ["a", "b"] },
        input_timeout_ms: 60_000,
        inputs: [{ n: 1 }],
      });
      const back = Task.fromDict(JSON.parse(JSON.stringify(dict)));
      expect(back.toDict()).toEqual(dict);
      expect(back.inputTimeoutMs).toBe(60_000);
      // the copy answers on its own; the original still waits
      const copy = task.clone();
      copy.provideInput("b", 1);
      expect(copy.inputs).toEqual([{ n: 1 }, "b"]);
      expect(task.inputs).toEqual([{ n: 1 }]);
      expect(task.status).toBe(TaskStatus.INPUT_REQUIRED);
      // a dict's inputs is a copy: changing it does not change the task
      (dict.inputs as unknown[]).push("x");
      expect(task.inputs).toEqual([{ n: 1 }]);
    });
  });

  it("has a dict with exactly SPEC's keys, and the fencing token stays out of it", () => {
    const task = new Task({ taskId: "t", taskType: "x", fencingToken: 4 });
    expect(Object.keys(task.toDict())).toEqual([
      "task_id",
      "task_type",
      "payload",
      "status",
      "result",
      "error",
      "attempts",
      "assigned_to",
      "created_at",
      "started_at",
      "completed_at",
    ]);
    expect(task.toJSON()).toEqual(task.toDict());
    expect(JSON.parse(JSON.stringify(task))).toEqual(task.toDict());
  });

  it("round-trips losslessly through fromDict, in every status", () => {
    const tasks = [
      new Task({ taskId: "a", taskType: "compute", payload: { values: [1, 2.5, -3], nested: { ok: true } } }),
    ];
    const started = new Task({ taskId: "b", taskType: "echo" });
    started.assign("worker-1", 3);
    started.markStarted();
    tasks.push(started);
    const done = started.clone();
    done.markCompleted({ deep: [null, "x", { y: 1 }] });
    tasks.push(done);
    const failed = new Task({ taskId: "c", taskType: "x" });
    failed.markFailed("bad");
    tasks.push(failed);
    for (const task of tasks) {
      const wire = JSON.parse(JSON.stringify(task));
      const back = Task.fromDict(wire);
      expect(back.toDict()).toEqual(task.toDict());
      expect(JSON.stringify(back)).toBe(JSON.stringify(task));
    }
  });

  it("accepts a peer's minimal dict and a naive (Python) timestamp as is", () => {
    const task = Task.fromDict({ task_id: "t", task_type: "compute", created_at: "2025-11-28T10:30:00" });
    expect(task.createdAt).toBe("2025-11-28T10:30:00");
    expect(task.status).toBe(TaskStatus.PENDING);
  });

  it("validates fromDict input and names the bad field", () => {
    const good = new Task({ taskId: "t", taskType: "x" }).toDict();
    expectCode(() => Task.fromDict({ ...good, status: "done" }), "ERR_INVALID_TASK", /task\.status/);
    expectCode(() => Task.fromDict({ ...good, attempts: -1 }), "ERR_INVALID_TASK", /task\.attempts/);
    expectCode(() => Task.fromDict({ ...good, payload: [1] }), "ERR_INVALID_TASK", /task\.payload/);
    expectCode(
      () => Task.fromDict({ ...good, payload: { x: Number.NaN } }),
      "ERR_INVALID_TASK",
      /payload.*NaN/,
    );
    expectCode(() => Task.fromDict({ ...good, started_at: "yesterday" }), "ERR_INVALID_TASK", /started_at/);
    expectCode(() => Task.fromDict({ ...good, task_id: "" }), "ERR_INVALID_TASK", /task\.task_id/);
    expectCode(() => Task.fromDict({ ...good, taskId: "t" }), "ERR_INVALID_TASK", /unknown key.*taskId/);
    expectCode(() => Task.fromDict("task"), "ERR_INVALID_TASK");
    expectCode(() => new Task({ taskId: "t", taskType: "x", fencingToken: -1 }), "ERR_INVALID_TASK");
  });

  it("refuses a result that is not JSON", () => {
    const task = new Task({ taskId: "t", taskType: "x" });
    task.markStarted();
    expectCode(
      () => task.markCompleted({ n: Number.POSITIVE_INFINITY }),
      "ERR_INVALID_JSON",
      /result of task t\.n/,
    );
    expect(task.status).toBe(TaskStatus.IN_PROGRESS);
  });

  it("applies partial updates through the life cycle rules", () => {
    const task = new Task({ taskId: "t", taskType: "x" });
    task.update({ assignedTo: "w1", fencingToken: 2 });
    task.update({ status: TaskStatus.IN_PROGRESS });
    expect(task.attempts).toBe(1);
    task.update({ status: TaskStatus.COMPLETED, result: { ok: 1 } });
    expect(task.result).toEqual({ ok: 1 });
    expectCode(() => task.update({ result: "rewritten" }), "ERR_ILLEGAL_TRANSITION");
    expectCode(() => task.update({ status: TaskStatus.PENDING }), "ERR_ILLEGAL_TRANSITION");
    expectCode(() => task.update({ taskId: "u" } as never), "ERR_INVALID_TASK", /"taskId" cannot be updated/);
    const other = new Task({ taskId: "u", taskType: "x", assignedTo: "w1" });
    other.update({ assignedTo: null });
    expect(other.assignedTo).toBeNull();
  });

  it("clones into an independent task", () => {
    const task = new Task({ taskId: "t", taskType: "x", payload: { list: [1] }, fencingToken: 9 });
    const copy = task.clone();
    copy.markStarted();
    (copy.payload.list as number[]).push(2);
    expect(task.status).toBe(TaskStatus.PENDING);
    expect(task.payload).toEqual({ list: [1] });
    expect(copy.fencingToken).toBe(9);
  });
});
