import { describe, expect, it } from "vitest";
import { toDict } from "../../../src/agents/coordinator/coordinator-agent.js";
import { depthProblem, ENVELOPE_DEPTH, MAX_PAYLOAD_DEPTH } from "../../../src/agents/payload-depth.js";
import { isUnsendable, sendSplitting } from "../../../src/agents/split-send.js";
import { TriadError } from "../../../src/core/errors.js";
import { A2AClient, MessageType } from "../../../src/core/messaging/index.js";
import { MAX_JSON_DEPTH } from "../../../src/core/messaging/plain-json.js";
import { type JsonObject, Task } from "../../../src/index.js";

/** A payload `levels` containers deep: { a: { a: ... { a: 1 } } }. */
const deep = (levels: number): JsonObject => {
  let v: JsonObject = { a: 1 };
  for (let i = 1; i < levels; i++) v = { a: v };
  return v;
};

describe("the task payload depth limit", () => {
  const client = new A2AClient({ agentId: "distributor", tokenSecret: "depth-test-secret", router: null });
  /** An execute_tasks message, built and signed as the distributor builds it, around `payload`. */
  const executeTasks = (payload: JsonObject) =>
    client.createMessage(
      "worker",
      { event_type: "execute_tasks", event_data: { tasks: [{ fence: 1, task: { payload } }] } },
      MessageType.EVENT,
    );

  it("is what the deepest message can carry: ENVELOPE_DEPTH is the real envelope", () => {
    expect(() => executeTasks(deep(MAX_JSON_DEPTH - ENVELOPE_DEPTH))).not.toThrow();
    expect(() => executeTasks(deep(MAX_JSON_DEPTH - ENVELOPE_DEPTH + 1))).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_MESSAGE" }),
    );
  });

  it("leaves room in it: a payload at the limit, wrapped once more by a handler, still fits", () => {
    expect(MAX_PAYLOAD_DEPTH + ENVELOPE_DEPTH + 1).toBeLessThanOrEqual(MAX_JSON_DEPTH);
    expect(() => executeTasks({ wrapped: deep(MAX_PAYLOAD_DEPTH) })).not.toThrow();
  });

  it("is checked when a task is submitted from the library, naming the task", () => {
    expect(toDict({ task_id: "ok", task_type: "echo", payload: deep(MAX_PAYLOAD_DEPTH) }).task_id).toBe("ok");
    const refused = expect.objectContaining({
      code: "ERR_INVALID_TASK",
      message: expect.stringMatching(/task "too-deep": payload is nested more than 32 levels deep/),
    });
    expect(() =>
      toDict({ task_id: "too-deep", task_type: "echo", payload: deep(MAX_PAYLOAD_DEPTH + 1) }),
    ).toThrow(refused);
    const task = new Task({ taskId: "too-deep", taskType: "echo", payload: deep(40) });
    expect(() => toDict(task)).toThrow(refused);
  });

  it("says a payload with a cycle is not JSON, not that it is too deep (submitTask and submitTasks of a dict)", () => {
    const payload: Record<string, unknown> = { a: 1 };
    payload.self = { back: payload };
    expect(() => toDict({ task_id: "loop", task_type: "echo", payload: payload as JsonObject })).toThrow(
      expect.objectContaining({
        code: "ERR_INVALID_TASK",
        message: 'task "loop": payload is not JSON: it contains a cycle',
      }),
    );
  });

  it("depthProblem says so of any value with a cycle (provideInput's input, a handler's result)", () => {
    const input: Record<string, unknown> = { answer: "yes" };
    input.again = [input];
    expect(depthProblem(input, "the input")).toBe("the input is not JSON: it contains a cycle");
    expect(depthProblem(deep(MAX_PAYLOAD_DEPTH + 1), "the input")).toMatch(
      /^the input is nested more than 32/,
    );
    expect(depthProblem(deep(MAX_PAYLOAD_DEPTH), "the input")).toBeNull();
  });

  it("refuses 10,000 levels with the same error, not a stack overflow", () => {
    const payload = JSON.parse(`${'{"a":'.repeat(10_000)}1${"}".repeat(10_000)}`);
    expect(() => toDict({ task_id: "abyss", task_type: "echo", payload })).toThrow(
      expect.objectContaining({ code: "ERR_INVALID_TASK" }),
    );
  });
});

describe("sendSplitting", () => {
  const unsendable = () => new TriadError("ERR_INVALID_MESSAGE", "payload: nested deeper than 64 levels");

  it("sends the batch as one message when it can", async () => {
    const sent: number[][] = [];
    await sendSplitting(
      [1, 2, 3],
      async (items) => void sent.push(items),
      () => {},
    );
    expect(sent).toEqual([[1, 2, 3]]);
  });

  it("sends every batch-mate of an item no message can carry, and refuses only that item", async () => {
    const sent: number[] = [];
    const refused: Array<[number, string]> = [];
    const items = Array.from({ length: 200 }, (_, i) => i);
    await sendSplitting(
      items,
      async (part) => {
        if (part.includes(57) || part.includes(150)) throw unsendable();
        sent.push(...part);
      },
      (item, why) => refused.push([item, why]),
    );
    expect(refused.map(([item]) => item).sort((a, b) => a - b)).toEqual([57, 150]);
    expect(refused[0]![1]).toMatch(/nested deeper/);
    expect(sent.sort((a, b) => a - b)).toEqual(items.filter((i) => i !== 57 && i !== 150));
  });

  it("leaves other failures (the peer unreachable) to the caller, unsplit", async () => {
    let calls = 0;
    const down = new TriadError("ERR_A2A_UNREACHABLE", "no answer");
    await expect(
      sendSplitting(
        [1, 2, 3],
        async () => {
          calls++;
          throw down;
        },
        () => {},
      ),
    ).rejects.toBe(down);
    expect(calls).toBe(1);
    expect(isUnsendable(down)).toBe(false);
    expect(isUnsendable(new TriadError("ERR_A2A_TOO_LARGE", "big"))).toBe(true);
  });
});
