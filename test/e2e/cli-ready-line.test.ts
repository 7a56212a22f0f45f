import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { START_UP_MS, TriadProcess } from "../helpers/processes.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/ready-after-signal.ts", import.meta.url));

/**
 * runAgentProcess (src/cli/shutdown.ts) says `ready <tier> <id> <url>` once the upstream has
 * taken the agent in, and never once a signal has started its shutdown: scripts and tests
 * that wait for the line would take an agent on its way out as ready.
 */
describe("a tier process's ready line", () => {
  const started: TriadProcess[] = [];
  afterEach(async () => {
    await Promise.all(started.splice(0).map((p) => p.kill()));
  });
  const life = (when: string) => {
    const p = new TriadProcess([when], {}, ["--import", "tsx", FIXTURE]);
    started.push(p);
    return p;
  };

  it("is said once the upstream has taken the agent in", async () => {
    const p = life("before");
    await p.waitFor(/^serving$/m, START_UP_MS);
    await p.waitFor(/^ready worker w-ready http:\/\/127\.0\.0\.1:1\/a2a$/m);
    p.signal("SIGTERM");
    await p.waitFor(/^exit 0$/m);
  });

  it("is not said when the upstream takes it in after the signal, while it shuts down", async () => {
    const p = life("during-shutdown");
    await p.waitFor(/^serving$/m, START_UP_MS);
    p.signal("SIGTERM");
    await p.waitFor(/^exit 0$/m);
    expect(p.output).not.toMatch(/^ready /m);
  });
});
