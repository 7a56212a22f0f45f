import { randomUUID } from "node:crypto";
import {
  CancelTaskRequest,
  GetTaskRequest,
  ListTasksRequest,
  SendMessageRequest,
  TaskState,
} from "@a2a-js/sdk";
import { describe, expect, it } from "vitest";
import {
  asTask,
  client,
  completedTask,
  conformanceTriad,
  errorOf,
  type Json,
  kindOf,
  nonCamelKeys,
  post,
  rpc,
  sleepTask,
  sse,
  TERMINAL,
  taskData,
  textMessage,
  waitingTask,
} from "../helpers/a2a-conformance-kit.js";

/**
 * The A2A conformance kit's MUST requirements for a JSON-RPC server, as a2a-conformance.test.ts
 * says: here the core operations (section 3), streaming, and the capabilities and data model
 * (sections 3.3.4, 4, 5), against a `triad up --a2a-text-type echo` of this file's own.
 */

describe("A2A conformance kit, JSON-RPC MUST requirements (triad up --a2a-text-type echo)", () => {
  conformanceTriad();

  describe("core operations (section 3)", () => {
    it("CORE-SEND-001, CORE-MULTI-001a, CORE-MULTI-003, CORE-EXECUTION-MODE-001: a plain-text message runs (as the --a2a-text-type task) and the blocking answer is the finished Task with a server-made id and contextId", async () => {
      const a = await completedTask();
      const b = await completedTask();
      expect(TaskState[a.status!.state]).toBe("TASK_STATE_COMPLETED");
      expect(a.id).not.toBe("");
      expect(a.contextId).not.toBe("");
      expect(b.id).not.toBe(a.id);
      const artifact = a.artifacts[0]?.parts[0]?.content;
      expect(artifact?.$case === "data" && artifact.value).toEqual({ text: "Hello from TCK" });
    });

    it("CORE-MULTI-002 (MAY) and 002a: a client's contextId is kept", async () => {
      const contextId = `tck-client-context-${randomUUID()}`;
      const task = asTask(
        await client.sendMessage(
          SendMessageRequest.fromJSON({ message: textMessage("Message with contextId", { contextId }) }),
        ),
      );
      expect(task.contextId).toBe(contextId);
    });

    it("CORE-EXECUTION-MODE-002: with returnImmediately the answer is the task before it is finished", async () => {
      const { answer } = await rpc("SendMessage", {
        message: taskData("sleep", { ms: 1500 }),
        configuration: { returnImmediately: true },
      });
      const task = answer.result?.task as { status: { state: string } };
      expect(TERMINAL).not.toContain(task.status.state);
    });

    it("CORE-SEND-002, CORE-MULTI-004, CORE-MULTI-006: a message naming an unknown task is TaskNotFoundError; one naming a finished task UnsupportedOperationError; a mismatching contextId an error", async () => {
      const unknown = await errorOf("SendMessage", {
        message: textMessage("Message to invalid task", { taskId: `tck-nonexistent-${randomUUID()}` }),
      });
      expect(unknown.code).toBe(-32001);
      // A refused stream is one JSON answer, not an event stream.
      const raw = await post(
        JSON.stringify({
          jsonrpc: "2.0",
          id: 3,
          method: "SendStreamingMessage",
          params: { message: textMessage("to nobody", { taskId: `tck-nonexistent-${randomUUID()}` }) },
        }),
      );
      expect(JSON.parse(raw.text)).toMatchObject({ id: 3, error: { code: -32001 } });

      const done = await completedTask();
      expect(
        (await errorOf("SendMessage", { message: textMessage("Follow-up", { taskId: done.id }) })).code,
      ).toBe(-32004);
      const mismatch = await errorOf("SendMessage", {
        message: textMessage("Follow-up", { taskId: done.id, contextId: `other-${randomUUID()}` }),
      });
      expect(mismatch.code).toBeLessThan(0);
    });

    it("CORE-MULTI-005, CORE-MULTI-006: a message naming a task that waits for input (INPUT_REQUIRED) with its taskId alone continues it in the task's own contextId; a mismatching contextId is refused", async () => {
      const contextId = `tck-context-${randomUUID()}`;
      const waiting = await waitingTask({ contextId });
      expect(waiting.contextId).toBe(contextId);
      // The kit's follow-up: text, taskId only, no contextId.
      const { answer } = await rpc("SendMessage", {
        message: textMessage("Grace", { taskId: waiting.id }),
      });
      expect(answer.error).toBeUndefined();
      const task = answer.result?.task as { id: string; contextId: string; status: { state: string } };
      expect(task.id).toBe(waiting.id);
      expect(task.contextId).toBe(contextId);
      expect(task.status.state).toBe("TASK_STATE_COMPLETED");
      const got = await client.getTask(GetTaskRequest.fromJSON({ id: waiting.id }));
      expect(got.contextId).toBe(contextId);
      const result = got.artifacts[0]?.parts[0]?.content;
      expect(result?.$case === "data" && result.value).toEqual({ greeting: "Hello, Grace!", asked: 1 });
      // A message naming it, now finished, is refused (CORE-SEND-002).
      expect(
        (await errorOf("SendMessage", { message: textMessage("again", { taskId: waiting.id }) })).code,
      ).toBe(-32004);

      // CORE-MULTI-006 on an open task: the wrong contextId is an error, and the task still waits.
      const open = await waitingTask();
      const mismatch = await errorOf("SendMessage", {
        message: textMessage("Ada", { taskId: open.id, contextId: `wrong-context-${randomUUID()}` }),
      });
      expect(mismatch.code).toBeLessThan(0);
      expect(mismatch.message).toMatch(/contextId/);
      const still = await client.getTask(GetTaskRequest.fromJSON({ id: open.id }));
      expect(TaskState[still.status!.state]).toBe("TASK_STATE_INPUT_REQUIRED");
      // Streaming the answer: the stream starts with the task and ends COMPLETED, in its contextId.
      const streamed = await sse("SendStreamingMessage", {
        message: textMessage("Ada", { taskId: open.id }),
      });
      expect(streamed.type).toMatch(/^text\/event-stream/);
      expect(streamed.events.map(kindOf).at(-1)).toBe("status:TASK_STATE_COMPLETED");
      const first = streamed.events[0]?.result?.task as { id: string; contextId: string } | undefined;
      expect(first).toMatchObject({ id: open.id, contextId: open.contextId });
    });

    it("CORE-CANCEL-001 as the kit sets it up: a task waiting for input (INPUT_REQUIRED) is canceled and answered CANCELED", async () => {
      const waiting = await waitingTask();
      const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id: waiting.id }));
      expect(canceled.id).toBe(waiting.id);
      expect(TaskState[canceled.status!.state]).toBe("TASK_STATE_CANCELED");
      // Input for it now is refused: it has ended.
      expect(
        (await errorOf("SendMessage", { message: textMessage("late", { taskId: waiting.id }) })).code,
      ).toBe(-32004);
    });

    it("CORE-GET-001, CORE-HIST-002: GetTask answers the task's state and artifacts; historyLength bounds the history", async () => {
      const done = await completedTask();
      const got = await client.getTask(GetTaskRequest.fromJSON({ id: done.id }));
      expect(got.id).toBe(done.id);
      expect(TaskState[got.status!.state]).toBe("TASK_STATE_COMPLETED");
      expect(got.artifacts).toHaveLength(1);
      expect(got.history.length).toBeGreaterThan(0);
      const bounded = await rpc("GetTask", { id: done.id, historyLength: 0 });
      expect(((bounded.answer.result?.history as unknown[]) ?? []).length).toBe(0);
    });

    it("CORE-ERR-002, CORE-HIST-002: a historyLength that is negative or not an integer is -32602 naming the field (GetTask, ListTasks, SendMessage, SendStreamingMessage)", async () => {
      const done = await completedTask();
      for (const bad of [-1, -100, 1.5, "abc", "-1", "1.5", true, 2147483648, [], {}]) {
        const shown = typeof bad === "number" ? String(bad) : JSON.stringify(bad);
        const wanted = (field: string) => ({
          code: -32602,
          message: expect.stringContaining(`${field} must be an integer from 0`) as unknown as string,
        });
        const got = await errorOf("GetTask", { id: done.id, historyLength: bad });
        expect(got, `GetTask historyLength ${shown}`).toMatchObject(wanted("params.historyLength"));
        // The ErrorInfo every other -32602 carries (the SDK's own).
        expect(got.data).toEqual([
          {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            reason: "INVALID_PARAMS",
            domain: "a2a-protocol.org",
          },
        ]);
        expect(got.message).toContain(`got ${shown}`);
        expect(await errorOf("ListTasks", { historyLength: bad })).toMatchObject(
          wanted("params.historyLength"),
        );
        const send = { message: textMessage("hello"), configuration: { historyLength: bad } };
        expect(await errorOf("SendMessage", send)).toMatchObject(
          wanted("params.configuration.historyLength"),
        );
        expect(await errorOf("SendStreamingMessage", send)).toMatchObject(
          wanted("params.configuration.historyLength"),
        );
      }
      // Zero, a count, a count written as a string (protobuf JSON), and null (unset) are taken.
      for (const ok of [0, 1, "1", null, 2147483647]) {
        const { answer } = await rpc("GetTask", { id: done.id, historyLength: ok });
        expect(answer.error, `historyLength ${JSON.stringify(ok)}`).toBeUndefined();
        expect(answer.result?.id).toBe(done.id);
      }
      const one = await rpc("GetTask", { id: done.id, historyLength: 1 });
      expect(one.answer.result?.history).toHaveLength(1);
    });

    it("CORE-GET-002, CORE-CANCEL-003: an unknown task id is TaskNotFoundError (-32001), through the SDK client too", async () => {
      const id = `tck-nonexistent-${randomUUID()}`;
      expect((await errorOf("GetTask", { id })).code).toBe(-32001);
      expect((await errorOf("CancelTask", { id })).code).toBe(-32001);
      await expect(client.getTask(GetTaskRequest.fromJSON({ id }))).rejects.toMatchObject({
        name: "TaskNotFoundError",
      });
    });

    it("CORE-CANCEL-001, CORE-CANCEL-002: a working task is canceled and answered CANCELED; a finished one is TaskNotCancelableError", async () => {
      const id = await sleepTask(5000);
      const canceled = await client.cancelTask(CancelTaskRequest.fromJSON({ id }));
      expect(TaskState[canceled.status!.state]).toBe("TASK_STATE_CANCELED");
      const done = await completedTask();
      expect((await errorOf("CancelTask", { id: done.id })).code).toBe(-32002);
    });

    it("CORE-LIST-001..005: ListTasks pages with pageToken/nextPageToken, newest status first, nextPageToken '' on the last page, no artifacts unless asked", async () => {
      const contextId = `tck-list-${randomUUID()}`;
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) {
        const t = asTask(
          await client.sendMessage(
            SendMessageRequest.fromJSON({ message: textMessage(`list ${i}`, { contextId }) }),
          ),
        );
        ids.push(t.id);
        await new Promise((r) => setTimeout(r, 5)); // distinct status timestamps
      }
      const first = await client.listTasks(ListTasksRequest.fromJSON({ contextId, pageSize: 2 }));
      expect(first.tasks.map((t) => t.id)).toEqual([ids[2], ids[1]]);
      expect(first.nextPageToken).not.toBe("");
      const last = await rpc("ListTasks", { contextId, pageSize: 2, pageToken: first.nextPageToken });
      const result = last.answer.result as { tasks: Json[]; nextPageToken?: string };
      expect(result.tasks.map((t) => t.id)).toEqual([ids[0]]);
      expect(result).toHaveProperty("nextPageToken", "");
      for (const t of result.tasks) expect(t).not.toHaveProperty("artifacts");
      const withArtifacts = await rpc("ListTasks", { contextId, includeArtifacts: true });
      const listed = (withArtifacts.answer.result as { tasks: Json[] }).tasks;
      expect(listed).toHaveLength(3);
      for (const t of listed) expect(t.artifacts).toHaveLength(1);
    });

    it("CORE-LIST-002..005 with a REJECTED task: listed in order and counted, by its state and its context, as GetTask answers it", async () => {
      const contextId = `tck-list-rejected-${randomUUID()}`;
      const refused = asTask(
        await client.sendMessage(
          SendMessageRequest.fromJSON({ message: { ...taskData("no_such_type", {}), contextId } }),
        ),
      );
      expect(TaskState[refused.status!.state]).toBe("TASK_STATE_REJECTED");
      await new Promise((r) => setTimeout(r, 5)); // distinct status timestamps
      const done = asTask(
        await client.sendMessage(
          SendMessageRequest.fromJSON({ message: textMessage("after", { contextId }) }),
        ),
      );
      const first = await client.listTasks(ListTasksRequest.fromJSON({ contextId, pageSize: 1 }));
      expect(first.tasks.map((t) => t.id)).toEqual([done.id]);
      expect(first.totalSize).toBe(2);
      const last = await rpc("ListTasks", { contextId, pageSize: 1, pageToken: first.nextPageToken });
      const result = last.answer.result as { tasks: Json[]; nextPageToken?: string; totalSize: number };
      expect(result.tasks.map((t) => t.id)).toEqual([refused.id]);
      expect(result).toHaveProperty("nextPageToken", "");
      const got = await rpc("GetTask", { id: refused.id });
      expect(result.tasks[0]).toEqual(got.answer.result);
      const byState = await client.listTasks(
        ListTasksRequest.fromJSON({ status: "TASK_STATE_REJECTED", pageSize: 100 }),
      );
      expect(byState.tasks.map((t) => t.id)).toContain(refused.id);
      expect(byState.totalSize).toBeGreaterThanOrEqual(1);
      const unfiltered = await client.listTasks(ListTasksRequest.fromJSON({ pageSize: 100 }));
      expect(unfiltered.tasks.map((t) => t.id)).toContain(refused.id);
    });
  });

  describe("streaming (sections 3.1.2, 3.1.6, 3.5)", () => {
    it("CORE-STREAM-001, CORE-STREAM-003: SendStreamingMessage begins with the Task and closes at its terminal state", async () => {
      const { events } = await sse("SendStreamingMessage", { message: taskData("sleep", { ms: 400 }) });
      const kinds = events.map(kindOf);
      expect(kinds[0]).toMatch(/^task:/);
      expect(kinds.at(-1)).toBe("status:TASK_STATE_COMPLETED");
      expect(kinds.filter((k) => k.startsWith("status:TASK_STATE_COMPLETED"))).toHaveLength(1);
    });

    it("STREAM-SUB-001/002, STREAM-ORDER-001..004: every subscriber gets the Task first, then the same events in order to the end; closing one leaves the others", async () => {
      const id = await sleepTask(1200);
      const quitter = new AbortController();
      const [a, b, c] = await Promise.all([
        sse("SubscribeToTask", { id }),
        sse("SubscribeToTask", { id }),
        (async () => {
          setTimeout(() => quitter.abort(), 200);
          return sse("SubscribeToTask", { id }, quitter.signal).catch(() => "closed" as const);
        })(),
      ]);
      expect(c).toBe("closed");
      for (const stream of [a, b]) {
        const kinds = stream.events.map(kindOf);
        expect(kinds[0]).toMatch(/^task:TASK_STATE_(SUBMITTED|WORKING)$/);
        expect(kinds.slice(-2)).toEqual(["artifact", "status:TASK_STATE_COMPLETED"]);
      }
      expect(a.events.slice(-2)).toEqual(b.events.slice(-2));
    });

    it("STREAM-SUB-003, STREAM-SUB-004: subscribing to a finished task is UnsupportedOperationError, to an unknown one TaskNotFoundError", async () => {
      const done = await completedTask();
      expect((await errorOf("SubscribeToTask", { id: done.id })).code).toBe(-32004);
      expect((await errorOf("SubscribeToTask", { id: `tck-nonexistent-${randomUUID()}` })).code).toBe(-32001);
    });
  });

  describe("capabilities and data model (sections 3.3.4, 4, 5)", () => {
    it("CORE-CAP-001, CORE-CAP-003: push notification methods are -32003 and GetExtendedAgentCard -32004, as the card declares neither", async () => {
      const card = await client.getAgentCard();
      expect(card.capabilities?.pushNotifications).toBe(false);
      expect(card.capabilities?.extendedAgentCard).toBe(false);
      for (const [method, params] of [
        ["CreateTaskPushNotificationConfig", { taskId: "t", url: "https://example.com/hook" }],
        ["GetTaskPushNotificationConfig", { taskId: "t", id: "c" }],
        ["ListTaskPushNotificationConfigs", { taskId: "t" }],
        ["DeleteTaskPushNotificationConfig", { taskId: "t", id: "c" }],
      ] as const) {
        expect((await errorOf(method, params)).code, method).toBe(-32003);
      }
      expect((await errorOf("GetExtendedAgentCard", {})).code).toBe(-32004);
    });

    it("DM-TASK-001/002, DM-STATUS-001, DM-MSG-001/002, DM-PART-001, DM-ART-001, DM-SERIAL-001..004: a task on the wire has its required fields, ProtoJSON enums, camelCase keys, one content per part, UTC ISO-8601 timestamps", async () => {
      const done = await completedTask();
      const { answer } = await rpc("GetTask", { id: done.id });
      const task = answer.result as {
        id: string;
        contextId: string;
        status: { state: string; timestamp: string };
        artifacts: Array<{ artifactId: string; parts: Json[] }>;
        history: Array<{ messageId: string; role: string; parts: Json[] }>;
      };
      expect(task.id).toBe(done.id);
      expect(task.contextId).toEqual(expect.any(String));
      expect(task.status.state).toBe("TASK_STATE_COMPLETED");
      expect(task.status.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(nonCamelKeys(task)).toEqual([]);
      expect(task.artifacts[0]?.artifactId).toBe("result");
      for (const message of task.history) {
        expect(message.messageId).not.toBe("");
        expect(["ROLE_USER", "ROLE_AGENT"]).toContain(message.role);
      }
      const parts = [...task.artifacts.flatMap((a) => a.parts), ...task.history.flatMap((m) => m.parts)];
      expect(parts.length).toBeGreaterThan(0);
      for (const part of parts) {
        expect(Object.keys(part).filter((k) => ["text", "raw", "url", "data"].includes(k))).toHaveLength(1);
      }
    });
  });
});
