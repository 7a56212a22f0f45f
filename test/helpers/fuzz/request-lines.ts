import fc from "fast-check";
import { rawRequest } from "../raw-request.js";
import { method, requestTarget, shortPrinted } from "./inputs.js";
import { answerProblem, type FuzzProbe } from "./invariant.js";
import type { FuzzSystem } from "./system.js";

/**
 * Request lines and headers as fuzz input, to any HTTP entry (the coordinator's API, dashboard
 * and A2A gateway; each agent's /a2a): targets node's own client refuses to send (`//[/`,
 * `http://[::1/`, `http:///`, `http://a:99999/x`), bad percent-escapes, dot segments, random
 * bytes, odd methods, Host and Origin headers. Nothing here can record a task.
 */

export type RequestLine = {
  agent: number;
  method: string;
  target: string;
  host: string | undefined;
  origin: string | undefined;
  token: boolean;
};

const hostHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  {
    weight: 1,
    arbitrary: fc.constantFrom("", "evil.example", "[::1", "a:99999", "localhost:1", "127.0.0.1:0"),
  },
);
const originHeader = fc.oneof(
  { weight: 6, arbitrary: fc.constant(undefined) },
  { weight: 1, arbitrary: fc.constantFrom("null", "http://evil.example", "http://[::1", "file://", "") },
);

export const requestLines: FuzzProbe<RequestLine> = {
  arbitrary: (system: FuzzSystem) =>
    fc
      .record({
        agent: fc.integer({ min: 0, max: system.agents.length - 1 }),
        method,
        target: requestTarget,
        host: hostHeader,
        origin: originHeader,
        token: fc.boolean(),
      })
      .map((line) => shortPrinted({ ...line })),
  async send(system, _book, line) {
    const agent = system.agents[line.agent]!;
    const headers: Record<string, string> = {};
    if (line.host !== undefined) headers.host = line.host;
    if (line.origin !== undefined) headers.origin = line.origin;
    if (line.token) headers.authorization = `Bearer ${system.apiToken}`;
    const answer = await rawRequest(agent.port, {
      method: line.method,
      target: line.target,
      headers,
      ...(line.method === "POST" ? { body: "{}" } : {}),
    });
    if (process.env.FUZZ_DEBUG)
      console.log("LINE", answer.status, agent.tier, fc.stringify(line).slice(0, 200));
    const problem = answerProblem(answer);
    return problem === null ? [] : [`${agent.tier} ${agent.id}: ${fc.stringify(line)}: ${problem}`];
  },
};
