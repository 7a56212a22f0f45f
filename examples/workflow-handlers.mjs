// A workflow in three task types, for `--handlers examples/workflow-handlers.mjs`:
// `plan` spawns one `research` task per topic and a `report` that depends on all of them;
// each `research` runs on any worker; `report` runs once every one has ended and reads
// their results from ctx.dependencies. The spawned tasks exist only if `plan` completes.

/** `plan`: payload { topics: string[] } -> { report: <id of the report task> } */
function plan(task, ctx) {
  const topics = task.payload.topics ?? [];
  const research = ctx.spawn(topics.map((topic) => ({ task_type: "research", payload: { topic } })));
  const [report] = ctx.spawn([{ task_type: "report", depends_on: research }]);
  return { research, report };
}

/** `research`: payload { topic } -> { topic, notes } */
async function research(task) {
  await new Promise((resolve) => setTimeout(resolve, 100)); // the slow part of real work
  return { topic: task.payload.topic, notes: `${task.payload.topic}: ${task.payload.topic.length} letters` };
}

/** `report`: joins every research task's result, in order. */
function report(_task, ctx) {
  const parts = Object.values(ctx.dependencies);
  return {
    sections: parts.filter((d) => d.status === "completed").map((d) => d.result.notes),
    missing: parts.filter((d) => d.status !== "completed").length,
  };
}

export default { plan, research, report };
