// A handlers module for `triad worker --handlers examples/handlers.mjs`: its default export maps
// task types to handlers. A handler is a function of the task (return any JSON value; throw to
// fail the attempt, which is retried), or a compiled LangGraph graph (invoked with the task's
// payload; its final state is the result; if its worker dies it resumes from its last step).
import { Annotation, END, START, StateGraph } from "@langchain/langgraph";

/** `word_count`: payload { text } -> { words, longest } */
function wordCount(task) {
  const text = task.payload.text;
  if (typeof text !== "string") throw new Error("word_count: payload.text must be a string");
  const words = text.split(/\s+/).filter(Boolean);
  return { words: words.length, longest: words.reduce((a, w) => (w.length > a.length ? w : a), "") };
}

/** `slow_square`: async, honours the attempt's deadline through ctx.signal. */
async function slowSquare(task, ctx) {
  await new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, 50);
    ctx.signal.addEventListener("abort", () => {
      clearTimeout(timer);
      reject(ctx.signal.reason);
    });
  });
  return { square: task.payload.n * task.payload.n };
}

/** `review`: a two-step LangGraph graph, draft then check. */
const ReviewState = Annotation.Root({
  text: Annotation(),
  draft: Annotation(),
  approved: Annotation(),
});
const review = new StateGraph(ReviewState)
  .addNode("write_draft", (s) => ({ draft: `Summary: ${String(s.text).slice(0, 40)}` }))
  .addNode("check_draft", (s) => ({ approved: s.draft.length <= 60 }))
  .addEdge(START, "write_draft")
  .addEdge("write_draft", "check_draft")
  .addEdge("check_draft", END)
  .compile();

export default {
  word_count: wordCount,
  slow_square: slowSquare,
  review,
};
