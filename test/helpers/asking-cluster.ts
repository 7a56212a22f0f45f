import { afterAll, beforeAll } from "vitest";
import type { HandlerContext, JsonValue, Task, TaskHandler } from "../../src/index.js";
import { type RunningServer, startCoordinatorServer } from "../../src/server/coordinator-server.js";
import { sendMessageRpc } from "./a2a-rpc.js";
import { TestCluster } from "./cluster.js";
import { until } from "./wait.js";

/**
 * For a describe block whose tests answer a task's question at the coordinator's HTTP entries:
 * a coordinator, distributor d1 and worker w1 on `memory://<name>-<pid>`, started before its
 * tests (`beforeServe` runs between the start and the server's listening) and stopped after
 * them. The worker's one handler, "ask", asks once ({ what: "anything" }) and then returns
 * `result(ctx.inputs)`.
 *
 * `post` sends a JSON body (A2A version 1.0) and answers the status and the parsed body;
 * `answerOverA2A` answers a task by a SendMessage whose one data part is `data`; `asking(name)`
 * submits an "ask" task under that name and resolves its id once it waits for input.
 */
export function askingClusterPerSuite(
  name: string,
  result: (inputs: JsonValue[]) => JsonValue,
  beforeServe: (cluster: TestCluster) => void = () => {},
) {
  let cluster: TestCluster | undefined;
  let server: RunningServer | undefined;
  beforeAll(async () => {
    const ask = (_task: Task, ctx: HandlerContext): JsonValue => {
      if (ctx.inputs.length < 1) ctx.requestInput({ what: "anything" });
      return result(ctx.inputs);
    };
    cluster = new TestCluster(
      { url: `memory://${name}-${process.pid}` },
      { handlers: { ask } as Record<string, TaskHandler<Task>> },
    );
    await cluster.startOne();
    beforeServe(cluster);
    server = await startCoordinatorServer(cluster.coordinator, { port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await cluster?.stop();
  });

  const post = async (path: string, body: unknown) => {
    const res = await fetch(`${server!.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/json", "a2a-version": "1.0" },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const answerOverA2A = async (taskId: string, data: JsonValue) => {
    const { status, answer } = await sendMessageRpc<Record<string, unknown>>(server!.url, {
      taskId,
      parts: [{ data }],
    });
    return { status, body: answer };
  };
  const asking = async (taskName: string): Promise<string> => {
    const id = cluster!.id(taskName);
    await cluster!.coordinator.submitTask({ task_id: id, task_type: "ask", payload: {} });
    await until(
      "the task asks",
      async () => (await cluster!.coordinator.core.getTask(id))?.status === "input_required",
      30_000,
    );
    return id;
  };
  return { post, answerOverA2A, asking, cluster: (): TestCluster => cluster! };
}
