import { afterEach, describe, expect, it } from "vitest";
import { A2AClient } from "../../../src/core/messaging/client.js";
import { until } from "../../helpers/wait.js";

/** An agent's A2A listener says who it is, and can share its port with the agent's own HTTP API. */

const clients: A2AClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe("the A2A listener's port", () => {
  it("GET /a2a tells a peer that knows only the URL which agent listens there", async () => {
    const a = new A2AClient({ agentId: "coordinator-7", tokenSecret: "s", router: null });
    clients.push(a);
    const { url } = await a.listen();
    const res = await fetch(`${url}/a2a`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ agent_id: "coordinator-7", protocol: "triad-a2a" });
  });

  it("serves every other path with the agent's own handler, and POST /a2a still carries messages", async () => {
    const a = new A2AClient({ agentId: "a", tokenSecret: "s", router: null });
    const b = new A2AClient({ agentId: "b", tokenSecret: "s", router: null });
    clients.push(a, b);
    b.serveOtherRoutes((req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end(`api ${req.method} ${req.url}`);
    });
    const got: unknown[] = [];
    b.registerHandler("event" as never, (m) => {
      got.push(m.payload);
    });
    const { url } = await b.listen();
    expect(await (await fetch(`${url}/tasks?x=1`)).text()).toBe("api GET /tasks?x=1");
    a.setPeer("b", url);
    await a.sendEvent("b", "hello", { n: 1 });
    await until("b handles the event", () => got.length > 0, 5_000, 10);
    expect(got).toEqual([{ event_type: "hello", event_data: { n: 1 } }]);
  });

  it("without its own handler, other paths are 404", async () => {
    const a = new A2AClient({ agentId: "a", tokenSecret: "s", router: null });
    clients.push(a);
    const { url } = await a.listen();
    expect((await fetch(`${url}/tasks`)).status).toBe(404);
  });
});
