import { describe, expect, it } from "vitest";
import {
  type Bounds,
  checkHistory,
  describeViolations,
  type FinalRecord,
} from "../helpers/history/checker.js";
import type { HistoryEvent } from "../helpers/history/history.js";

/**
 * The checker is the judge of every chaos scenario, so it is tested first, on histories made
 * by hand: a clean run passes, and each kind of violation is caught and reported with the
 * task's (or agent's) history.
 */

const BOUNDS: Bounds = { detectionMs: 2_000, reassignMs: 1_000 };

/** A history written line by line: ev(t, agent, op, fields). */
function run(lines: Array<[number, string, string, Partial<HistoryEvent>?]>): HistoryEvent[] {
  return lines.map(([t, agent, op, rest]) => ({ t, agent, op, ...rest }));
}

const done = (fence: number, status = "completed"): FinalRecord => ({ status, fence, attempts: fence });

/** One task through every tier, as a healthy run records it. */
function happy(id: string, t0 = 0): Array<[number, string, string, Partial<HistoryEvent>?]> {
  return [
    [t0, "client", "submitted", { task_id: id }],
    [t0 + 1, "c1", "recorded", { task_id: id, distributor: "d1" }],
    [t0 + 2, "client", "accepted", { task_id: id }],
    [t0 + 3, "d1", "dispatched", { task_id: id, distributor: "d1", worker: "w1", fence: 1 }],
    [t0 + 5, "w1", "executed", { task_id: id, attempt: 1 }],
    [t0 + 6, "d1", "committed", { task_id: id, fence: 1, status: "completed" }],
  ];
}

describe("the history checker", () => {
  it("passes a clean run and counts what it saw", () => {
    const result = checkHistory({
      history: run([...happy("a"), ...happy("b", 10)]),
      final: new Map([
        ["a", done(1)],
        ["b", done(1)],
      ]),
      bounds: BOUNDS,
    });
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.stats).toMatchObject({
      accepted: 2,
      completed: 2,
      lost: 0,
      doubleCommits: 0,
      executions: 2,
    });
  });

  it("catches a lost task: accepted, but Redis has no terminal record of it", () => {
    const history = run([
      ...happy("a"),
      [20, "client", "submitted", { task_id: "b" }],
      [21, "client", "accepted", { task_id: "b" }],
    ]);
    const result = checkHistory({
      history,
      final: new Map<string, FinalRecord | null>([
        ["a", done(1)],
        ["b", null],
      ]),
      bounds: BOUNDS,
    });
    expect(result.ok).toBe(false);
    expect(result.violations.map((v) => [v.kind, v.subject])).toEqual([["lost", "b"]]);
    expect(result.violations[0]!.history.map((e) => e.op)).toEqual(["submitted", "accepted"]);
    expect(describeViolations(result)).toMatch(
      /lost b: accepted, but Redis has no record of it\n.*submitted/,
    );
  });

  it("catches a task recorded by the coordinator but left open, even if the client never heard yes", () => {
    const result = checkHistory({
      history: run([
        [0, "client", "submitted", { task_id: "a" }],
        [1, "c1", "recorded", { task_id: "a", distributor: "d1" }],
        [2, "client", "submit_failed", { task_id: "a", reason: "socket hang up" }],
      ]),
      final: new Map([["a", { status: "pending", fence: 0, attempts: 0 }]]),
      bounds: BOUNDS,
    });
    expect(result.violations.map((v) => [v.kind, v.message])).toEqual([
      ["lost", "accepted, but still pending in Redis at the end"],
    ]);
  });

  it("does not count an indeterminate submission that Redis never saw as lost", () => {
    const result = checkHistory({
      history: run([
        [0, "client", "submitted", { task_id: "a" }],
        [1, "client", "submit_failed", { task_id: "a" }],
      ]),
      final: new Map([["a", null]]),
      bounds: BOUNDS,
    });
    expect(result.ok).toBe(true);
    expect(result.stats).toMatchObject({ accepted: 0, indeterminate: 1 });
  });

  it("catches a double commit: two attempts of one task both committed", () => {
    const history = run([
      ...happy("a"),
      [7, "d2", "dispatched", { task_id: "a", distributor: "d2", worker: "w2", fence: 2 }],
      [9, "d2", "committed", { task_id: "a", fence: 2, status: "completed" }],
    ]);
    const result = checkHistory({ history, final: new Map([["a", done(2)]]), bounds: BOUNDS });
    const kinds = result.violations.map((v) => v.kind);
    expect(kinds).toContain("double_commit");
    const double = result.violations.find((v) => v.kind === "double_commit")!;
    expect(double.subject).toBe("a");
    expect(double.message).toBe("ended 2 times: committed@1 by d1, committed@2 by d2");
    expect(result.stats.doubleCommits).toBe(1);
  });

  it("catches a commit that is followed by an abandon of the same task", () => {
    const history = run([...happy("a"), [30, "c1", "abandoned", { task_id: "a", reason: "no distributor" }]]);
    const result = checkHistory({ history, final: new Map([["a", done(1)]]), bounds: BOUNDS });
    expect(result.violations.map((v) => v.kind)).toEqual(["double_commit"]);
  });

  it("catches a stale commit: a fence older than a later dispatch", () => {
    const history = run([
      [0, "client", "accepted", { task_id: "a" }],
      [1, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
      // The coordinator moved it to d2 (fence 2), which started attempt 3; then attempt 1 committed.
      [2, "c1", "assigned", { task_id: "a", distributor: "d2" }],
      [3, "d2", "dispatched", { task_id: "a", distributor: "d2", worker: "w2", fence: 3 }],
      [4, "d1", "committed", { task_id: "a", fence: 1, status: "completed" }],
    ]);
    const result = checkHistory({ history, final: new Map([["a", done(1)]]), bounds: BOUNDS });
    const stale = result.violations.filter((v) => v.kind === "stale_commit");
    expect(stale).toHaveLength(1);
    expect(stale[0]!.message).toBe("committed at fence 1, but an attempt with fence 3 was dispatched");
  });

  it("catches a commit from an attempt whose fence was retired when its worker died", () => {
    const history = run([
      [0, "client", "accepted", { task_id: "a" }],
      [1, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
      [2, "d1", "reassigned", { task_id: "a", distributor: "d1", fence: 1 }],
      [4, "d1", "committed", { task_id: "a", fence: 1, status: "completed" }],
    ]);
    const result = checkHistory({ history, final: new Map([["a", done(1)]]), bounds: BOUNDS });
    expect(result.violations.map((v) => v.message)).toEqual([
      "the attempt with fence 1 ended 2 times: reassigned, committed",
    ]);
  });

  it("accepts a failed attempt written back for a retry, then a later attempt committed", () => {
    const history = run([
      [0, "client", "accepted", { task_id: "a" }],
      [1, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
      [2, "d1", "retried", { task_id: "a", fence: 1 }],
      [3, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 2 }],
      [4, "d1", "committed", { task_id: "a", fence: 2, status: "failed" }],
    ]);
    expect(
      checkHistory({ history, final: new Map([["a", done(2, "failed")]]), bounds: BOUNDS }).violations,
    ).toEqual([]);
  });

  it("catches a divergence between the ending it saw and the record Redis kept", () => {
    const result = checkHistory({
      history: run(happy("a")),
      final: new Map([["a", done(1, "failed")]]),
      bounds: BOUNDS,
    });
    expect(result.violations.map((v) => v.kind)).toEqual(["divergent"]);
  });

  it("catches a client reading back something other than what was committed", () => {
    const final = new Map([["a", { ...done(1), result: { n: 1 } }]]);
    const read = (result: unknown) =>
      run([...happy("a"), [9, "client", "observed", { task_id: "a", status: "completed", result }]]);
    expect(checkHistory({ history: read({ n: 1 }), final, bounds: BOUNDS }).ok).toBe(true);
    const wrong = checkHistory({ history: read({ forged: true }), final, bounds: BOUNDS });
    expect(wrong.violations.map((v) => [v.kind, v.message])).toEqual([
      ["divergent", 'a client read it completed with {"forged":true}, Redis says completed with {"n":1}'],
    ]);
  });

  it("counts refused stale results apart from re-deliveries of the committed one", () => {
    const history = run([
      [0, "client", "accepted", { task_id: "a" }],
      [1, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
      [2, "d1", "reassigned", { task_id: "a", distributor: "d1", fence: 1 }],
      [3, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w2", fence: 3 }],
      [4, "d1", "committed", { task_id: "a", fence: 3, status: "completed" }],
      [5, "d1", "rejected", { task_id: "a", fence: 1, reason: "stale_fence" }],
      [6, "d1", "rejected", { task_id: "a", fence: 3, reason: "stale_fence" }],
      [7, "w1", "executed", { task_id: "a", attempt: 1 }],
      [8, "w2", "executed", { task_id: "a", attempt: 2 }],
    ]);
    const result = checkHistory({ history, final: new Map([["a", done(3)]]), bounds: BOUNDS });
    expect(result.ok).toBe(true);
    expect(result.stats).toMatchObject({
      staleRejected: 1,
      redeliveredRejected: 1,
      executions: 2,
      reexecutedTasks: 1,
    });
  });

  describe("failure detection", () => {
    /** w1 runs task a and is killed at t=1000; d1 declares it dead at `deadAt` and moves a at `movedAt`. */
    function killed(deadAt: number | null, movedAt: number | null): HistoryEvent[] {
      const lines: Array<[number, string, string, Partial<HistoryEvent>?]> = [
        [0, "client", "accepted", { task_id: "a" }],
        [10, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
        [1000, "nemesis", "fault", { kind: "kill", target: "w1", detect: true }],
      ];
      if (deadAt !== null) lines.push([deadAt, "d1", "dead", { target: "w1", tasks: 1 }]);
      if (movedAt !== null) {
        lines.push([movedAt, "d1", "reassigned", { task_id: "a", distributor: "d1", fence: 1 }]);
        lines.push([
          movedAt + 1,
          "d1",
          "dispatched",
          { task_id: "a", distributor: "d1", worker: "w2", fence: 3 },
        ]);
        lines.push([movedAt + 5, "d1", "committed", { task_id: "a", fence: 3, status: "completed" }]);
      }
      lines.push([20_000, "client", "observed", {}]);
      return run(lines);
    }

    it("passes a death declared and a task moved within their bounds, and reports the times", () => {
      const result = checkHistory({
        history: killed(3_800, 3_850),
        final: new Map([["a", done(3)]]),
        bounds: { detectionMs: 3_000, reassignMs: 1_000 },
      });
      expect(result.violations).toEqual([]);
      expect(result.stats.timings).toEqual([
        {
          target: "w1",
          kind: "kill",
          detectionMs: 2_800,
          reassignmentMs: [2_850],
          inFlight: 1,
          endedThere: 0,
        },
      ]);
    });

    it("catches a late detection", () => {
      const result = checkHistory({
        history: killed(9_000, 9_010),
        final: new Map([["a", done(3)]]),
        bounds: BOUNDS,
      });
      expect(result.violations.map((v) => [v.kind, v.subject, v.message])).toEqual([
        ["late_detection", "w1", "kill of w1: declared dead after 8000 ms (bound 2000 ms)"],
      ]);
    });

    it("catches a failure never detected", () => {
      const result = checkHistory({
        history: killed(null, null),
        final: new Map([["a", done(1)]]),
        bounds: BOUNDS,
      });
      expect(result.violations.map((v) => v.kind)).toEqual(["undetected"]);
    });

    it("catches a task left on the dead worker, and one moved late", () => {
      const notMoved = checkHistory({
        history: killed(2_500, null),
        final: new Map([["a", { status: "in_progress", fence: 1, attempts: 1 }]]),
        bounds: BOUNDS,
      });
      expect(notMoved.violations.map((v) => [v.kind, v.subject])).toEqual([
        ["lost", "a"],
        ["not_reassigned", "a"],
      ]);
      const late = checkHistory({
        history: killed(2_500, 6_000),
        final: new Map([["a", done(3)]]),
        bounds: BOUNDS,
      });
      expect(late.violations.map((v) => [v.kind, v.subject])).toEqual([["late_reassignment", "a"]]);
    });

    it("accepts a task a killed agent committed before it died, its history line lost with it", () => {
      // d1 was killed between committing `a` in Redis and writing that down.
      const history = killed(2_500, null);
      const excused = checkHistory({ history, final: new Map([["a", done(1)]]), bounds: BOUNDS });
      expect(excused.ok).toBe(true);
      expect(excused.stats.timings[0]).toMatchObject({ inFlight: 1, endedThere: 1, reassignmentMs: [] });
      // But a task Redis shows ended by a later attempt that the history never saw move is not excused.
      const result = checkHistory({ history, final: new Map([["a", done(4)]]), bounds: BOUNDS });
      expect(result.violations.map((v) => v.kind)).toEqual(["not_reassigned"]);
    });

    it("requires no detection of a pause healed before the bound", () => {
      const history = run([
        [0, "nemesis", "fault", { kind: "pause", target: "w1", detect: true }],
        [500, "nemesis", "heal", { kind: "resume", target: "w1" }],
        [20_000, "client", "observed", {}],
      ]);
      expect(checkHistory({ history, final: new Map(), bounds: BOUNDS }).ok).toBe(true);
    });

    it("does not count a task waiting for input as in flight on the worker or distributor of its last attempt", () => {
      const history = run([
        [0, "c1", "recorded", { task_id: "a", distributor: "d1" }],
        [1, "c1", "recorded", { task_id: "b", distributor: "d1" }],
        [2, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
        [3, "d1", "dispatched", { task_id: "b", distributor: "d1", worker: "w1", fence: 1 }],
        [50, "d1", "awaiting_input", { task_id: "a", fence: 1 }],
        [100, "nemesis", "fault", { kind: "kill", target: "w1", detect: true }],
        [1500, "d1", "dead", { target: "w1", tasks: 1 }],
        [1600, "d1", "reassigned", { task_id: "b", distributor: "d1", fence: 1 }],
        [1610, "d1", "dispatched", { task_id: "b", distributor: "d1", worker: "w2", fence: 3 }],
        [1620, "d1", "committed", { task_id: "b", fence: 3, status: "completed" }],
        // answered long after: placed and run again, well past the reassignment bound
        [9_000, "c1", "assigned", { task_id: "a", distributor: "d1" }],
        [9_010, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w2", fence: 2 }],
        [9_020, "d1", "committed", { task_id: "a", fence: 2, status: "completed" }],
      ]);
      const final = new Map([
        ["a", done(2)],
        ["b", done(3)],
      ]);
      const result = checkHistory({ history, final, bounds: BOUNDS });
      expect(result.violations).toEqual([]);
      expect(result.stats.timings[0]?.reassignmentMs).toEqual([1500]); // b only
      // The same while it waits, for a fault of its last distributor.
      const dHistory = history.map((e) =>
        e.op === "fault" ? { ...e, target: "d1" } : e.op === "dead" ? { ...e, target: "d1", agent: "c1" } : e,
      );
      const onD = checkHistory({ history: dHistory, final, bounds: BOUNDS });
      expect(onD.violations.filter((v) => v.subject === "a")).toEqual([]);
    });

    it("moves the tasks of a dead distributor: all of those placed on it count", () => {
      const history = run([
        [0, "c1", "recorded", { task_id: "a", distributor: "d1" }],
        [1, "c1", "recorded", { task_id: "b", distributor: "d1" }],
        [2, "d1", "dispatched", { task_id: "a", distributor: "d1", worker: "w1", fence: 1 }],
        [100, "nemesis", "fault", { kind: "kill", target: "d1", detect: true }],
        [1500, "c1", "dead", { target: "d1", tasks: 2 }],
        [1510, "c1", "assigned", { task_id: "a", distributor: "d2" }],
        [3000, "c1", "assigned", { task_id: "b", distributor: "d2" }],
        [3010, "d2", "dispatched", { task_id: "a", distributor: "d2", worker: "w3", fence: 3 }],
        [3011, "d2", "dispatched", { task_id: "b", distributor: "d2", worker: "w3", fence: 1 }],
        [3020, "d2", "committed", { task_id: "a", fence: 3, status: "completed" }],
        [3021, "d2", "committed", { task_id: "b", fence: 1, status: "completed" }],
      ]);
      const result = checkHistory({
        history,
        final: new Map([
          ["a", done(3)],
          ["b", done(1)],
        ]),
        bounds: BOUNDS,
      });
      expect(result.violations.map((v) => [v.kind, v.subject])).toEqual([["late_reassignment", "b"]]);
      expect(result.stats.timings[0]).toEqual({
        target: "d1",
        kind: "kill",
        detectionMs: 1400,
        reassignmentMs: [1410, 2900],
        inFlight: 2,
        endedThere: 0,
      });
    });
  });
});
