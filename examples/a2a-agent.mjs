// A small A2A agent (any A2A agent would do: LangGraph, ADK, CrewAI, a vendor's) built with the
// official @a2a-js/sdk server classes, to run behind Triad as a worker's task types:
//
//   node examples/a2a-agent.mjs --port 9999 &                     # the agent (A2A_AGENT_TOKEN: wants a bearer token)
//   export TRIAD_SECRET=$(openssl rand -hex 32)
//   bin/triad coordinator --id c1 --redis redis://127.0.0.1:6379 --port 7400 &
//   bin/triad distributor --id d1 --coordinator http://127.0.0.1:7400 --redis redis://127.0.0.1:6379 --port 7401 &
//   bin/triad worker --id w1 --distributor http://127.0.0.1:7401 --port 7402 --a2a-agent http://127.0.0.1:9999 &
//
//   bin/triad submit --coordinator http://127.0.0.1:7400 --type summarize --payload '{"text":"Triad runs it. Twice? No."}' --wait
//   bin/triad submit --coordinator http://127.0.0.1:7400 --type count_slowly --payload '{"to":20}' --wait
//
// Or everything in one process: bin/triad up --tasks 0 --keep --handlers examples/a2a-handlers.mjs
//
// Skills: `summarize` ({ text } -> { summary, words }), `count_slowly` ({ to } -> { counted },
// one a second, streaming its progress; kill -9 the worker meanwhile: the next worker attaches
// to the same remote task, the count does not start again).
import { randomUUID } from "node:crypto";
import { TaskState } from "@a2a-js/sdk";
import { AgentEvent, DefaultRequestHandler, InMemoryTaskStore } from "@a2a-js/sdk/server";
import { agentCardHandler, jsonRpcHandler, UserBuilder } from "@a2a-js/sdk/server/express";
import express from "express";

const port = Number(process.argv[process.argv.indexOf("--port") + 1] || 9999);
const token = process.env.A2A_AGENT_TOKEN ?? "";
const url = `http://127.0.0.1:${port}`;

const skill = (id, description) => ({
  id,
  name: id,
  description,
  tags: [],
  examples: [],
  inputModes: ["application/json"],
  outputModes: ["application/json"],
  securityRequirements: [],
});

const card = {
  name: "Example summarizer",
  description: "Summarizes text, and counts slowly (to show a long task surviving its worker).",
  supportedInterfaces: [
    { url: `${url}/a2a/jsonrpc`, protocolBinding: "JSONRPC", protocolVersion: "1.0", tenant: "" },
  ],
  version: "1.0.0",
  capabilities: { streaming: true, pushNotifications: false, extensions: [], extendedAgentCard: false },
  securitySchemes: {},
  securityRequirements: [],
  defaultInputModes: ["application/json"],
  defaultOutputModes: ["application/json"],
  skills: [
    skill("summarize", "payload { text } -> { summary, words }"),
    skill("count_slowly", "payload { to } -> { counted }, one a second"),
  ],
  signatures: [],
};

const part = (data) => ({
  content: { $case: "data", value: data },
  filename: "",
  mediaType: "application/json",
});
const text = (value) => ({ content: { $case: "text", value }, filename: "", mediaType: "text/plain" });
const canceled = new Set();

const executor = {
  async execute(ctx, bus) {
    const { taskId, contextId, userMessage } = ctx;
    const input = userMessage.parts.find((p) => p.content?.$case === "data")?.content.value ?? {};
    const status = (state, said) => ({
      state,
      message: said && {
        messageId: randomUUID(),
        taskId,
        contextId,
        role: 2,
        parts: [text(said)],
        extensions: [],
        referenceTaskIds: [],
      },
      timestamp: new Date().toISOString(),
    });
    const update = (state, said) =>
      bus.publish(AgentEvent.statusUpdate({ taskId, contextId, status: status(state, said) }));
    const done = (data) => {
      bus.publish(
        AgentEvent.artifactUpdate({
          taskId,
          contextId,
          artifact: {
            artifactId: "result",
            name: "result",
            description: "",
            parts: [part(data)],
            extensions: [],
          },
          append: false,
          lastChunk: true,
        }),
      );
      update(TaskState.TASK_STATE_COMPLETED);
    };
    bus.publish(
      AgentEvent.task({
        id: taskId,
        contextId,
        status: status(TaskState.TASK_STATE_WORKING),
        artifacts: [],
        history: [userMessage],
      }),
    );
    const skillId = userMessage.metadata?.skill;
    console.log(`task ${taskId}: ${skillId} for Triad task ${userMessage.metadata?.triad_task_id}`);
    if (skillId === "summarize" && typeof input.text === "string") {
      const words = input.text.split(/\s+/).filter(Boolean);
      done({ summary: `${input.text.split(/(?<=[.!?])\s/)[0]}`, words: words.length });
    } else if (skillId === "count_slowly" && Number.isInteger(input.to)) {
      for (let n = 1; n <= input.to; n++) {
        await new Promise((r) => setTimeout(r, 1000));
        if (canceled.has(taskId)) return;
        update(TaskState.TASK_STATE_WORKING, `counted ${n}`);
      }
      done({ counted: input.to });
    } else {
      update(TaskState.TASK_STATE_FAILED, `cannot ${skillId ?? "do that"} with ${JSON.stringify(input)}`);
    }
    bus.finished();
  },
  async cancelTask(taskId, bus) {
    canceled.add(taskId);
    bus.publish(
      AgentEvent.statusUpdate({
        taskId,
        contextId: "",
        status: { state: TaskState.TASK_STATE_CANCELED, timestamp: new Date().toISOString() },
      }),
    );
    bus.finished();
  },
};

const app = express();
app.use("/.well-known/agent-card.json", agentCardHandler({ agentCardProvider: async () => card }));
app.use("/a2a/jsonrpc", (req, res, next) =>
  !token || req.headers.authorization === `Bearer ${token}`
    ? next()
    : res.status(401).json({ error: "unauthorized" }),
);
app.use(
  "/a2a/jsonrpc",
  jsonRpcHandler({
    requestHandler: new DefaultRequestHandler(card, new InMemoryTaskStore(), executor),
    userBuilder: UserBuilder.noAuthentication,
  }),
);
app.listen(port, "127.0.0.1", () => console.log(`A2A agent "${card.name}" at ${url}`));
