import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { runTriad } from "../helpers/processes.js";

/**
 * `triad submit` against a stand-in coordinator that records what it is sent: --count copies go
 * 1,000 a request, made as they are sent (never all of them up front), each request's records
 * printed as it is accepted; --wait says on stderr when its wait ran out.
 */

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;

let server: Server | undefined;

async function fakeCoordinator(handle: Handler): Promise<string> {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (d: Buffer) => {
      body += d.toString();
    });
    req.on("end", () => handle(req, body, res));
  });
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  server = undefined;
});

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

/** Accepts a POST /tasks as the coordinator does: each task's record, pending. */
function accept(body: string, res: ServerResponse): void {
  const tasks = JSON.parse(body) as Array<{ task_id: string; task_type: string }>;
  json(res, 202, {
    tasks: tasks.map((t) => ({ task_id: t.task_id, task_type: t.task_type, status: "pending" })),
  });
}

describe("triad submit --count", () => {
  it("sends the copies 1,000 a request as it makes them, printing each request's records as accepted", async () => {
    const sizes: number[] = [];
    const url = await fakeCoordinator((req, body, res) => {
      if (req.method !== "POST") return json(res, 404, {});
      sizes.push((JSON.parse(body) as unknown[]).length);
      // Two requests taken, then the coordinator refuses: what was accepted is already printed.
      if (sizes.length > 2) return json(res, 422, { error: { code: "ERR_TEST", message: "refused" } });
      accept(body, res);
    });
    const started = performance.now();
    // Ten million copies: made all at once (as before), this took GBs and minutes, or ran out of memory.
    const r = await runTriad(
      ["submit", "--coordinator", url, "--type", "echo", "--payload", '{"a":1}', "--count", "10000000"],
      { timeoutMs: 20_000 },
    );
    expect(r.code, r.stderr).toBe(1);
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(sizes).toEqual([1000, 1000, 1000]);
    const lines = r.stdout.trim().split("\n");
    expect(lines).toHaveLength(2000);
    expect(new Set(lines.map((l) => (JSON.parse(l) as { task_id: string }).task_id)).size).toBe(2000);
    expect(r.stderr).toContain("422 ERR_TEST refused");
  });

  it("--wait: every copy sent (the last request the rest) and waited for, each final record printed", async () => {
    const sizes: number[] = [];
    const waited = new Set<string>();
    const url = await fakeCoordinator((req, body, res) => {
      if (req.method === "POST") {
        sizes.push((JSON.parse(body) as unknown[]).length);
        return accept(body, res);
      }
      const id = decodeURIComponent(new URL(req.url!, "http://x").pathname.split("/")[2]!);
      waited.add(id);
      json(res, 200, { task_id: id, status: "completed", result: { ok: true } });
    });
    // Two whole requests and a last one with the rest (one copy): each copy is also waited for
    // with a request of its own, so the count was cut from 2,500 (a rest of 500) to the fewest
    // that still takes three requests.
    const r = await runTriad(
      ["submit", "--coordinator", url, "--type", "echo", "--count", "2001", "--wait"],
      { timeoutMs: 30_000 },
    );
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(sizes).toEqual([1000, 1000, 1]);
    const records = r.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { task_id: string; status: string });
    expect(records).toHaveLength(2001);
    expect(records.every((t) => t.status === "completed")).toBe(true);
    expect(waited.size).toBe(2001);
  });
});

describe("triad submit --wait --timeout", () => {
  it("when the wait runs out: the records as they are on stdout, and on stderr that it timed out, naming the tasks still open", async () => {
    const statuses = ["pending", "completed", "input_required"];
    const ids: string[] = [];
    const url = await fakeCoordinator((req, body, res) => {
      if (req.method === "POST") {
        ids.push(...(JSON.parse(body) as Array<{ task_id: string }>).map((t) => t.task_id));
        return accept(body, res);
      }
      const id = decodeURIComponent(new URL(req.url!, "http://x").pathname.split("/")[2]!);
      // The coordinator answers a long poll whose wait is over with the record as it is.
      setTimeout(() => json(res, 200, { task_id: id, status: statuses[ids.indexOf(id)] }), 200);
    });
    const r = await runTriad(
      ["submit", "--coordinator", url, "--type", "echo", "--count", "3", "--wait", "--timeout", "200"],
      { timeoutMs: 20_000 },
    );
    expect(r.code).toBe(1);
    expect(r.stdout.trim().split("\n")).toHaveLength(3);
    const line = r.stderr.trim();
    expect(line.split("\n")).toHaveLength(1);
    expect(line).toMatch(/^triad submit: --wait timed out \(--timeout 200 ms\) with 2 tasks still open: /);
    expect(line).toContain(`${ids[0]} (pending)`);
    expect(line).toContain(`${ids[2]} (input_required)`);
    expect(line).not.toContain(ids[1]!);
  });
});
