// A handlers module for `triad up --handlers examples/approval-graph.mjs` (or `triad worker
// --handlers ...`): an approval graph that drafts a message, waits for a person to approve it,
// then sends it. LangGraph's interrupt() ends the attempt `input_required` with what it asks;
// the task holds no worker while it waits (for hours, across restarts). Once someone answers —
// `triad input`, POST /tasks/:id/input, the dashboard's form or an A2A message — the graph
// resumes from the checkpoint the distributor stored, on any worker, with the answer as
// interrupt()'s value: `write` does not run again.
import { Annotation, END, interrupt, START, StateGraph } from "@langchain/langgraph";

const State = Annotation.Root({
  to: Annotation(),
  topic: Annotation(),
  draft: Annotation(),
  verdict: Annotation(),
  sent: Annotation(),
});

/** `approval`: payload { to, topic } -> { draft, verdict, sent }. */
const approval = new StateGraph(State)
  .addNode("write", (s) => ({ draft: `Hello ${s.to}, a short note about ${s.topic}.` }))
  .addNode("approve", (s) => {
    // Asks once; the answer is what `triad input --value` gave: "yes", or an edited draft.
    const answer = interrupt({ question: "Send this draft? Answer yes, no, or a new text.", draft: s.draft });
    if (answer === "yes") return { verdict: "approved" };
    if (answer === "no") return { verdict: "rejected" };
    return { verdict: "edited", draft: String(answer) };
  })
  .addNode("send", (s) => ({ sent: s.verdict === "rejected" ? null : { to: s.to, text: s.draft } }))
  .addEdge(START, "write")
  .addEdge("write", "approve")
  .addEdge("approve", "send")
  .addEdge("send", END)
  .compile();

/** `ask_name`: a function handler that asks until it has a name (ctx.requestInput, ctx.inputs). */
function askName(_task, ctx) {
  const name = ctx.inputs.at(-1);
  if (typeof name !== "string" || name.length === 0) ctx.requestInput({ question: "What is your name?" });
  return { greeting: `Hello, ${name}!`, asked: ctx.inputs.length };
}

export default { approval, ask_name: askName };
