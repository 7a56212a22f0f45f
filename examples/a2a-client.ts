// Triad's coordinator from any Agent2Agent client: here the official @a2a-js/sdk client sends one
// message whose data part is a Triad task ({ task_type, payload }) and gets the finished task back.
// Run, with a cluster up (bin/triad up --tasks 0 --keep):
//   npx tsx examples/a2a-client.ts http://127.0.0.1:7420
//   -> <the Triad task id> TASK_STATE_COMPLETED { result: 6 }
import { randomUUID } from "node:crypto";
import { SendMessageRequest, TaskState } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";

export async function main(url = "http://127.0.0.1:7420") {
  const client = await new ClientFactory().createFromUrl(url); // reads the agent card
  const token = process.env.TRIAD_API_TOKEN; // when the coordinator wants one
  const auth = token ? { serviceParameters: { Authorization: `Bearer ${token}` } } : {};
  const task = await client.sendMessage(
    SendMessageRequest.fromJSON({
      message: {
        messageId: randomUUID(),
        role: "ROLE_USER",
        parts: [{ data: { task_type: "compute", payload: { operation: "sum", values: [1, 2, 3] } } }],
      },
    }),
    auth,
  );
  // An A2A server may answer with a Message or a Task: Triad answers a Task.
  if (!("status" in task)) throw new Error("the agent answered with a message, not a task");
  return {
    id: task.id,
    state: TaskState[task.status?.state ?? TaskState.TASK_STATE_UNSPECIFIED],
    result: task.artifacts[0]?.parts[0]?.content?.value,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { id, state, result } = await main(process.argv[2]);
  console.log(id, state, result);
}
