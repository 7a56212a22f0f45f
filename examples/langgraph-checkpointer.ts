// Triad's checkpointer in a LangGraph app of your own (no Triad agents): the graph's state is
// kept in Redis, plain Redis 7 or Redis Cluster, and any process can resume the thread.
// Run: npx tsx examples/langgraph-checkpointer.ts   (embedded store; set REDIS_URL for a real Redis)
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";
import { StoreCheckpointSaver } from "triad";

const State = Annotation.Root({
  topic: Annotation<string>(),
  notes: Annotation<string[]>({ reducer: (a, b) => a.concat(b), default: () => [] }),
});

const graph = new StateGraph(State)
  .addNode("research", (s: typeof State.State) => ({ notes: [`facts about ${s.topic}`] }))
  .addNode("write", (s: typeof State.State) => ({ notes: [`a draft from ${s.notes.length} note(s)`] }))
  .addEdge(START, "research")
  .addEdge("research", "write")
  .addEdge("write", END);

export async function main(url = process.env.REDIS_URL ?? "memory://example") {
  // redis://, rediss://, redis+cluster://host1:6379,host2:6379, or memory:// (this process only)
  const checkpointer = await StoreCheckpointSaver.fromUrl(url, { keyPrefix: "myapp:" });
  try {
    const app = graph.compile({ checkpointer });
    const config = { configurable: { thread_id: "report-42" } };
    const result = await app.invoke({ topic: "Redis" }, config);

    const latest = await app.getState(config); // read back from the store
    const threads = new Set<string>();
    for await (const t of checkpointer.list({})) threads.add(t.config.configurable?.thread_id);
    await checkpointer.deleteThread("report-42"); // when the conversation is over
    return { result, step: latest.metadata?.step, threads: [...threads] };
  } finally {
    await checkpointer.end(); // closes the connection fromUrl opened
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(JSON.stringify(await main()));
}
