import { randomUUID } from "node:crypto";
import {
  type Artifact,
  type Message,
  SendMessageRequest,
  type StreamResponse,
  type Task,
  TaskState,
} from "@a2a-js/sdk";
import { expect } from "vitest";

/**
 * What the A2A gateway's end-to-end tests (test/e2e/a2a-gateway*.test.ts) say to and read from
 * the A2A SDK's own client: a message carrying a task, the parts of a task an answer has, the
 * events of a stream by name, and a wait for a condition.
 */

/** A SendMessage whose one data part is `data`; `configuration` in the protocol's JSON form. */
export function taskMessage(
  data: unknown,
  extra: { configuration?: object; contextId?: string; taskId?: string } = {},
) {
  const { configuration, ...ids } = extra;
  return SendMessageRequest.fromJSON({
    message: {
      messageId: randomUUID(),
      role: "ROLE_USER",
      parts: [{ data, mediaType: "application/json" }],
      ...ids,
    },
    ...(configuration ? { configuration } : {}),
  });
}

export function asTask(reply: Message | Task): Task {
  expect(reply).toHaveProperty("status");
  return reply as Task;
}

export const dataOf = (artifact: Artifact | undefined) => {
  const content = artifact?.parts[0]?.content;
  return content?.$case === "data" ? content.value : undefined;
};

export const statusText = (task: Task) =>
  (task.status?.message?.parts ?? [])
    .map((p) => (p.content?.$case === "text" ? p.content.value : ""))
    .join("");

export const stateName = (state: TaskState | undefined) => (state === undefined ? "none" : TaskState[state]);

/** What a stream said, in order: "task:STATE", "status:STATE" or "artifact". */
export function describeEvent(event: StreamResponse): string {
  const p = event.payload;
  if (p?.$case === "task") return `task:${stateName(p.value.status?.state)}`;
  if (p?.$case === "statusUpdate") return `status:${stateName(p.value.status?.state)}`;
  if (p?.$case === "artifactUpdate") return "artifact";
  return p?.$case ?? "empty";
}

export async function eventually<T>(
  probe: () => Promise<T | undefined>,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
