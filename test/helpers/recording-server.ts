import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

/** What a recording server answers to every request. */
export type RecordedAnswer = { status: number; contentType: string; body: string };

export type RecordingServer = {
  url: string;
  port: number;
  /** `METHOD /path` of every request received, in order; tests empty it before each case. */
  requests: string[];
  close: () => Promise<void>;
};

/**
 * A coordinator (or distributor) stand-in on 127.0.0.1 for the CLI e2e tests: it records each
 * request the CLI sends and, once the request's body is read, answers `answer`. The tests that
 * say "nothing sent" assert `requests` stayed empty; those that say "sent" that it did not.
 */
export async function recordingServer(answer: RecordedAnswer): Promise<RecordingServer> {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on("end", () => {
      res.writeHead(answer.status, { "content-type": answer.contentType });
      res.end(answer.body);
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  const close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return { url: `http://127.0.0.1:${port}`, port, requests, close };
}
