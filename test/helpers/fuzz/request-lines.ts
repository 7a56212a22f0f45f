import { METHODS } from "node:http";
import fc from "fast-check";
import { rawRequest } from "../raw-request.js";
import { contentType, method, requestTarget, shortPrinted } from "./inputs.js";
import { answerProblem, type FuzzProbe } from "./invariant.js";
import type { FuzzSystem } from "./system.js";

/**
 * Request lines and headers as fuzz input, to any HTTP entry (the coordinator's API, dashboard
 * and A2A gateway; each agent's /a2a): targets node's own client refuses to send (`//[/`,
 * `http://[::1/`, `http:///`, `http://a:99999/x`), bad percent-escapes, dot segments, random
 * bytes, odd methods, Host and Origin headers, bodies of up to 1.1 MB. Nothing here can record a
 * task: the body is never a task (a POST /tasks of "x"s is refused).
 */

export type RequestLine = {
  agent: number;
  method: string;
  target: string;
  host: string | undefined;
  origin: string | undefined;
  token: boolean;
  /** Bytes of body sent with it (0: none); a big one must not cost the answer (no reset). */
  bodyBytes: number;
  contentType: string | undefined;
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

/**
 * The target with every byte node's HTTP parser refuses (controls, non-ASCII, '#') escaped. A
 * request line the parser refuses (such a target, or a method it does not know) is answered 400
 * by node itself, before any of Triad's code, and node then destroys the socket: with a big body
 * still unread, the reset loses that 400. Big bodies therefore go with parseable request lines;
 * unparseable ones are fuzzed with small bodies.
 */
function parseable(target: string): string {
  return [...target].map((c) => (c > " " && c < "\u007f" && c !== "#" ? c : encodeURIComponent(c))).join("");
}

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
        bodyBytes: fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(0, 2) },
          { weight: 1, arbitrary: fc.integer({ min: 200_000, max: 1_100_000 }) },
        ),
        contentType,
      })
      .map((line) => shortPrinted({ ...line })),
  async send(system, _book, line) {
    const agent = system.agents[line.agent]!;
    const headers: Record<string, string> = {};
    if (line.host !== undefined) headers.host = line.host;
    if (line.origin !== undefined) headers.origin = line.origin;
    if (line.token) headers.authorization = `Bearer ${system.apiToken}`;
    if (line.contentType !== undefined) headers["content-type"] = line.contentType;
    const body = line.bodyBytes === 0 ? undefined : line.bodyBytes === 2 ? "{}" : "x".repeat(line.bodyBytes);
    const big = body !== undefined && body.length > 2;
    const answer = await rawRequest(agent.port, {
      method: big && !METHODS.includes(line.method) ? "POST" : line.method,
      target: big ? parseable(line.target) : line.target,
      headers,
      ...(body === undefined ? {} : { body }),
    });
    if (process.env.FUZZ_DEBUG)
      console.log("LINE", answer.status, agent.tier, fc.stringify(line).slice(0, 200));
    const problem = answerProblem(answer);
    return problem === null ? [] : [`${agent.tier} ${agent.id}: ${fc.stringify(line)}: ${problem}`];
  },
};
