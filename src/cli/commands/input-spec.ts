import type { CommandSpec } from "../options.js";
import { coordinatorUrlsFlag } from "./coordinator-flag.js";

export const inputSpec: CommandSpec = {
  name: "input",
  summary:
    "Give input to a task waiting for it (input_required): it runs again on any worker with the value (ctx.inputs, or a graph resumed).",
  usage: "triad input --coordinator URL --task ID --value JSON [--question N]",
  flags: [
    coordinatorUrlsFlag,
    { name: "task", type: "string", description: "the id of the task waiting for input", required: true },
    { name: "value", type: "string", description: "the input, JSON (a string is '\"yes\"')", required: true },
    {
      name: "question",
      type: "number",
      description:
        "the question answered: the length of the task's inputs when it asked (refused if it asks a later one)",
    },
  ],
  notes:
    "Prints the task's record (pending again). Exits 1, saying why, for a task not waiting for input (an earlier answer was taken: the first wins) or unknown. Environment: TRIAD_API_TOKEN (bearer token, when the coordinator wants one).",
};
