/**
 * What a LangGraph StateGraph costs per message, against a plain function dispatch.
 *
 *   npx tsx bench/graph-dispatch.ts [messages]
 *
 * Three ways to handle the same heartbeat (the node updates last_heartbeat and a local var,
 * and replies): a plain Map lookup + call + fold into LocalAgentState (the floor), a
 * LangGraphAgent's compiled message graph, and the same agent with the route on its fast
 * path. Sequential (one message at a time) and concurrent (64 in flight) runs are reported.
 */
import {
  type A2AMessage,
  type AgentReply,
  type JsonObject,
  LangGraphAgent,
  LocalAgentState,
  type MessageNode,
  type MessageState,
  MessageType,
  type Task,
} from "../src/index.js";
import { benchFlags } from "./lib/flags.js";

const { messages: N } = benchFlags(
  import.meta.url,
  {
    messages: {
      kind: "count",
      default: 20_000,
      min: 1,
      positional: true,
      help: "messages a run (or bare: 5000)",
    },
  },
  { command: "npx tsx bench/graph-dispatch.ts [messages]" },
);

function heartbeat(i: number): A2AMessage {
  return {
    type: MessageType.HEARTBEAT,
    sender: "worker-1",
    recipient: "distributor-1",
    payload: { status: "idle", load: i % 8 },
    metadata: {
      origin: "worker-1",
      version: "v1",
      timestamp: new Date().toISOString(),
      request_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`,
      parent_request_id: null,
      sequence_number: i,
    },
    signature: "",
  };
}

const onHeartbeat: MessageNode = ({ message }: MessageState) => ({
  last_heartbeat: message.metadata.timestamp,
  local_vars: { [`load:${message.sender}`]: message.payload.load ?? null },
  reply: { status: "alive" },
});

class BenchAgent extends LangGraphAgent {
  constructor(private readonly fast: boolean) {
    super({ agentId: "distributor-1" });
  }
  protected override messageNodes(): Record<string, MessageNode> {
    return { heartbeat: onHeartbeat };
  }
  protected override fastRoutes(): Iterable<string> {
    return this.fast ? ["heartbeat"] : [];
  }
  async executeTask(task: Task): Promise<AgentReply> {
    return task.toDict();
  }
}

/** The floor: what dispatching by hand costs. */
function plainDispatcher() {
  const state = new LocalAgentState({ agentId: "distributor-1" });
  const routes = new Map<string, MessageNode>([["heartbeat", onHeartbeat]]);
  return async (m: A2AMessage): Promise<AgentReply> => {
    const node = routes.get(m.type);
    if (node === undefined) return { status: "error" };
    const update = await node({
      message: m,
      reply: undefined,
      status: undefined,
      last_heartbeat: undefined,
      local_tasks: [],
      local_vars: {},
      history: [],
      metadata: {},
    });
    state.apply({
      last_heartbeat: update.last_heartbeat as string,
      local_vars: update.local_vars as JsonObject,
    });
    return (update.reply as AgentReply) ?? { status: "ok" };
  };
}

type Handle = (m: A2AMessage) => Promise<AgentReply>;

async function measure(handle: Handle, messages: A2AMessage[], inFlight: number): Promise<number> {
  const start = performance.now();
  let next = 0;
  const lanes = Array.from({ length: inFlight }, async () => {
    while (next < messages.length) await handle(messages[next++]!);
  });
  await Promise.all(lanes);
  return (performance.now() - start) / messages.length;
}

async function main(): Promise<void> {
  const messages = Array.from({ length: N }, (_, i) => heartbeat(i));
  const warm = messages.slice(0, Math.min(2_000, N));
  const graphAgent = new BenchAgent(false);
  const fastAgent = new BenchAgent(true);
  await graphAgent.initialize();
  await fastAgent.initialize();
  const contenders: [string, Handle][] = [
    ["plain function dispatch", plainDispatcher()],
    ["LangGraphAgent, fast path", (m) => fastAgent.processMessage(m)],
    ["LangGraphAgent, compiled StateGraph", (m) => graphAgent.processMessage(m)],
  ];
  console.log(`graph-dispatch: ${N} heartbeat messages per run, node ${process.version}\n`);
  console.log(
    `${"dispatch".padEnd(38)}${"in flight".padStart(10)}${"us/msg".padStart(12)}${"msg/s".padStart(12)}`,
  );
  for (const [, handle] of contenders) await measure(handle, warm, 1); // JIT warm-up for all, before any timing
  for (const inFlight of [1, 64]) {
    for (const [name, handle] of contenders) {
      const perMsgMs = await measure(handle, messages, inFlight);
      const us = (perMsgMs * 1000).toFixed(2);
      const rate = Math.round(1000 / perMsgMs).toLocaleString("en-US");
      console.log(`${name.padEnd(38)}${String(inFlight).padStart(10)}${us.padStart(12)}${rate.padStart(12)}`);
    }
  }
}

await main();
