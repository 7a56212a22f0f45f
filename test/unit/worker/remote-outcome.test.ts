import { type Artifact, type Part, type Task, TaskState } from "@a2a-js/sdk";
import { describe, expect, it } from "vitest";
import { RemoteHttpStatusError, remoteCallError } from "../../../src/agents/worker/remote/remote-errors.js";
import { mergeArtifact, remoteEnd, resultOf } from "../../../src/agents/worker/remote/remote-outcome.js";
import { TriadError } from "../../../src/core/errors.js";
import { isUnrecoverable, UnrecoverableError } from "../../../src/core/state/unrecoverable.js";

/** How a remote A2A task's state becomes the outcome of a Triad attempt. */

const text = (value: string): Part => ({
  content: { $case: "text", value },
  metadata: undefined,
  filename: "",
  mediaType: "",
});
const data = (value: unknown): Part => ({
  content: { $case: "data", value },
  metadata: undefined,
  filename: "",
  mediaType: "",
});
const artifact = (id: string, parts: Part[]): Artifact => ({
  artifactId: id,
  name: id,
  description: "",
  parts,
  metadata: undefined,
  extensions: [],
});
const task = (state: TaskState, said?: string, artifacts: Artifact[] = []): Task => ({
  id: "r-1",
  contextId: "c-1",
  status: {
    state,
    message:
      said === undefined
        ? undefined
        : {
            messageId: "m",
            contextId: "c-1",
            taskId: "r-1",
            role: 2,
            parts: [text(said)],
            metadata: undefined,
            extensions: [],
            referenceTaskIds: [],
          },
    timestamp: undefined,
  },
  artifacts,
  history: [],
  metadata: undefined,
});

describe("a remote task's end as an attempt's outcome", () => {
  it("submitted and working are not an end", () => {
    expect(remoteEnd(task(TaskState.TASK_STATE_SUBMITTED), "A")).toEqual({ kind: "running" });
    expect(remoteEnd(task(TaskState.TASK_STATE_WORKING), "A")).toEqual({ kind: "running" });
  });

  it("completed: one data part is the result, several a list, none their text joined", () => {
    expect(resultOf([artifact("a", [data({ x: 1 })])])).toEqual({ x: 1 });
    expect(resultOf([artifact("a", [data(1), text("ignored")]), artifact("b", [data(2)])])).toEqual([1, 2]);
    expect(resultOf([artifact("a", [text("hello "), text("world")])])).toBe("hello world");
    expect(resultOf([])).toBeNull();
    expect(
      remoteEnd(task(TaskState.TASK_STATE_COMPLETED, undefined, [artifact("a", [data({ ok: true })])]), "A"),
    ).toEqual({
      kind: "completed",
      result: { ok: true },
    });
  });

  it("failed and rejected carry the remote agent's words; with none, the state; rejected is final (no retry)", () => {
    expect(remoteEnd(task(TaskState.TASK_STATE_FAILED, "disk full"), "Agent")).toEqual({
      kind: "failed",
      error: "Agent: disk full",
    });
    expect(remoteEnd(task(TaskState.TASK_STATE_REJECTED), "Agent")).toEqual({
      kind: "failed",
      error: "remote task r-1 on Agent ended REJECTED",
      final: true,
    });
    expect(remoteEnd(task(TaskState.TASK_STATE_REJECTED, "no such skill"), "Agent")).toEqual({
      kind: "failed",
      error: "Agent: no such skill",
      final: true,
    });
  });

  it("input-required is the remote question (its text, or its data part) under a key naming that question; auth-required fails", () => {
    const asked = task(TaskState.TASK_STATE_INPUT_REQUIRED, "Which city?");
    const end = remoteEnd(asked, "Agent");
    expect(end).toEqual({ kind: "needs_input", question: "Which city?", key: "r-1|m|" });
    const withData = task(TaskState.TASK_STATE_INPUT_REQUIRED);
    withData.status!.message = {
      ...asked.status!.message!,
      messageId: "m2",
      parts: [data({ pick: ["a", "b"] })],
    };
    expect(remoteEnd(withData, "Agent")).toMatchObject({
      question: { pick: ["a", "b"] },
      key: expect.stringContaining("|m2|"),
    });
    const auth = remoteEnd(task(TaskState.TASK_STATE_AUTH_REQUIRED, "token?"), "Agent");
    expect(auth).toMatchObject({ kind: "failed", final: true });
    expect(auth.kind === "failed" && auth.error).toMatch(
      /asks for authorization: "token\?"; Triad cannot forward credentials/,
    );
  });

  it("canceled is its own end (a later attempt sends the work again)", () => {
    expect(remoteEnd(task(TaskState.TASK_STATE_CANCELED), "Agent").kind).toBe("canceled");
  });

  it("streamed artifact updates append or replace, as A2A says", () => {
    const seen = new Map<string, Artifact>();
    mergeArtifact(seen, artifact("a", [text("hel")]), false);
    mergeArtifact(seen, artifact("a", [text("lo")]), true);
    expect(resultOf([...seen.values()])).toBe("hello");
    mergeArtifact(seen, artifact("a", [data(7)]), false);
    expect(resultOf([...seen.values()])).toBe(7);
  });
});

describe("isUnrecoverable: what makes a task fail without its retries", () => {
  it("UnrecoverableError, an error named so (BullMQ's), retryable: false on the error or in a TriadError's details", () => {
    expect(isUnrecoverable(new UnrecoverableError("stop"))).toBe(true);
    expect(isUnrecoverable(Object.assign(new Error("x"), { name: "UnrecoverableError" }))).toBe(true);
    expect(isUnrecoverable(Object.assign(new Error("x"), { retryable: false }))).toBe(true);
    expect(isUnrecoverable(new TriadError("ERR_X", "x", { retryable: false }))).toBe(true);
    expect(isUnrecoverable(new Error("x"))).toBe(false);
    expect(isUnrecoverable(Object.assign(new Error("x"), { retryable: true }))).toBe(false);
    expect(isUnrecoverable(new TriadError("ERR_X", "x", { retryable: "no" }))).toBe(false);
    expect(isUnrecoverable("a string")).toBe(false);
    expect(isUnrecoverable(null)).toBe(false);
  });

  it("a refused bearer token (401/403) is unrecoverable; a connection refused is not", () => {
    const where = { agent: "A", url: "http://127.0.0.1:1", operation: "SendMessage", tokenSent: true };
    expect(isUnrecoverable(remoteCallError(new RemoteHttpStatusError(401, "Unauthorized"), where))).toBe(
      true,
    );
    expect(isUnrecoverable(remoteCallError(new RemoteHttpStatusError(403, "Forbidden"), where))).toBe(true);
    const refused = Object.assign(new TypeError("fetch failed"), { cause: { code: "ECONNREFUSED" } });
    expect(isUnrecoverable(remoteCallError(refused, where))).toBe(false);
  });
});
