// A handlers module that puts remote A2A agents behind Triad (triad worker --handlers, or
// triad up --handlers): pick the skills, map the payloads. Each task of a type below becomes one
// A2A message to the agent; its remote task's end is the task's outcome. With the agent of
// examples/a2a-agent.mjs running:
//
//   node examples/a2a-agent.mjs --port 9999 &
//   bin/triad up --tasks 0 --keep --handlers examples/a2a-handlers.mjs &
//   bin/triad submit --coordinator http://127.0.0.1:7420 --type summarize --payload '{"text":"One. Two."}' --wait
//   bin/triad submit --coordinator http://127.0.0.1:7420 --type headline --payload '{"title":"Triad"}' --wait
//
// The bearer token is TRIAD_A2A_AGENT_TOKEN unless a handler is given its own `token`.
import { a2aAgentHandler } from "triad";

const AGENT = process.env.A2A_AGENT_URL ?? "http://127.0.0.1:9999";

export default {
  // A skill as it is: the payload is the message's data part, the result the artifact's data.
  summarize: a2aAgentHandler(AGENT, { skill: "summarize" }),
  // A task type of our own on a remote skill: the payload and the result mapped on the way.
  headline: a2aAgentHandler(AGENT, {
    skill: "summarize",
    toMessage: (payload) => ({ data: { text: `${payload.title}. Now with remote agents.` } }),
    toResult: (result) => ({ headline: result.summary }),
    concurrency: 4,
  }),
};
