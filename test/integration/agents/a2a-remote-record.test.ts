import { MemorySaver } from "@langchain/langgraph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RemoteAgent } from "../../../src/agents/worker/remote/index.js";
import { readRemoteTask } from "../../../src/agents/worker/remote/remote-task-record.js";
import { startTestAgent, type TestAgent } from "../../helpers/a2a-test-agent.js";
import { sleep, until } from "../../helpers/wait.js";

/**
 * The remote task id is recorded while the bridge waits on the remote task (not before it: a
 * fast remote task would pay the record's round trip on top), and the outcome is given only once
 * the record is stored, so a worker that dies after reporting it has always left the id behind.
 */

/** A saver whose puts are held until released: the distributor has not answered yet. */
class HeldSaver extends MemorySaver {
  puts = 0;
  private releases: Array<() => void> = [];
  override async put(...args: Parameters<MemorySaver["put"]>) {
    this.puts++;
    await new Promise<void>((resolve) => this.releases.push(resolve));
    return super.put(...args);
  }
  release(): void {
    for (const r of this.releases.splice(0)) r();
  }
}

describe.each([
  { streaming: true, name: "streaming" },
  { streaming: false, name: "polling" },
])("recording a remote task ($name card)", ({ streaming }) => {
  let agent: TestAgent;
  beforeAll(async () => {
    agent = await startTestAgent({ streaming });
  });
  afterAll(() => agent.close());

  it("gives the outcome only once the remote task id is stored, and stores it once", async () => {
    const remote = new RemoteAgent({ url: agent.url, pollIntervalMs: 20 });
    const saver = new HeldSaver();
    const taskId = `held-${streaming}`;
    let outcome: unknown;
    const run = remote.run({ taskId, data: { hello: "world" }, skill: "echo", saver }).then((r) => {
      outcome = r;
    });
    await until("the remote task id is being recorded", () => saver.puts > 0, 5_000, 5);
    expect(agent.received.get(taskId)).toBe(1);
    // The echo has ended there; its outcome waits for the record. A negative check: nothing is
    // to happen in this window (no outcome while the put is held), so it is a fixed wait.
    await sleep(50);
    expect(outcome).toBeUndefined();
    saver.release();
    await run;
    expect(outcome).toEqual({ hello: "world" });
    expect(saver.puts).toBe(1);
    expect(await readRemoteTask(saver, taskId)).toMatchObject({ agent_url: agent.url });
    remote.close();
  });
});
