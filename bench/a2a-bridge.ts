// What bridging an A2A agent costs: an echo skill on loopback, one task at a time, called
//   direct   — with @a2a-js/sdk's client (SendStreamingMessage, read to the end), as a program would
//   handler  — through a2aAgentHandler's invoke() alone (the bridge, no cluster)
//   bridged  — as a Triad task (submit → coordinator → distributor → worker → agent → commit → answer),
//              in one process on the embedded store: the remote task id recorded through the distributor
//   builtin  — Triad's own `echo` task type, same cluster (Triad's overhead with no agent at all)
// in the same run, rounds alternating; p50/p95 per way, and bridged − direct.
//
//   npx tsx bench/a2a-bridge.ts [--tasks 300] [--rounds 3] [--linger MS]
import { randomUUID } from "node:crypto";
import { SendMessageRequest } from "@a2a-js/sdk";
import { ClientFactory } from "@a2a-js/sdk/client";
import * as triad from "../src/index.js";
import { startTestAgent } from "../test/helpers/a2a-test-agent.js";
import { benchFlags } from "./lib/flags.js";
import { untilReady } from "./triad-inprocess.js";

const argv = benchFlags(import.meta.url, {
  tasks: { kind: "count", default: 300, min: 1, help: "tasks a way and round, one at a time" },
  rounds: { kind: "count", default: 3, min: 1, help: "rounds, the ways alternating" },
  linger: {
    kind: "number",
    min: 0,
    value: "MS",
    help: "batchLingerMs and busyAssignLingerMs (default Triad's: 2 and 10)",
  },
});
const N = argv.tasks;
const ROUNDS = argv.rounds;
const timing =
  argv.linger === undefined ? {} : { batchLingerMs: argv.linger, busyAssignLingerMs: argv.linger };

const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
};

async function timed(n: number, one: (i: number) => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await one(i);
    out.push(performance.now() - t);
  }
  return out;
}

async function main(): Promise<void> {
  const agent = await startTestAgent({ streaming: true });
  const client = await new ClientFactory().createFromUrl(agent.url);
  const message = (i: number) =>
    SendMessageRequest.fromJSON({
      message: {
        messageId: randomUUID(),
        role: "ROLE_USER",
        parts: [{ data: { i }, mediaType: "application/json" }],
        metadata: { skill: "echo" },
      },
    });
  const handler = triad.a2aAgentHandler(agent.url, { skill: "echo" });

  const router = new triad.A2ARouter();
  const redis = { url: `memory://a2a-bridge-${process.pid}` };
  const coordinator = new triad.CoordinatorAgent({ agentId: "c", redis, a2a: { router }, timing });
  await coordinator.initialize();
  const distributor = new triad.DistributorAgent({
    agentId: "d",
    coordinatorId: "c",
    redis,
    a2a: { router },
  });
  await distributor.initialize();
  const worker = new triad.WorkerAgent({
    agentId: "w",
    distributorId: "d",
    a2a: { router },
    timing,
    handlers: { remote_echo: handler as unknown as triad.TaskHandler<triad.Task> },
  });
  await worker.initialize();
  await untilReady(coordinator, 1);

  const ways: Record<string, (i: number) => Promise<unknown>> = {
    direct: async (i) => {
      for await (const _ of client.sendMessageStream(message(i))) {
        // read to the end, as the bridge does
      }
    },
    handler: (i) => handler.invoke({ i }, { configurable: { thread_id: `h-${i}` } }),
    bridged: async (i) => {
      const id = `b-${randomUUID()}`;
      await coordinator.submitTask({ task_id: id, task_type: "remote_echo", payload: { i } });
      const done = await coordinator.waitForTask(id, 10_000);
      if (done?.status !== "completed") throw new Error(`bridged echo ended ${done?.status}: ${done?.error}`);
    },
    builtin: async (i) => {
      const id = `e-${randomUUID()}`;
      await coordinator.submitTask({ task_id: id, task_type: "echo", payload: { i } });
      await coordinator.waitForTask(id, 10_000);
    },
  };
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(ways).map((w) => [w, []]));
  for (const way of Object.keys(ways)) await timed(30, ways[way]!); // warm up
  for (let r = 0; r < ROUNDS; r++) {
    for (const [way, one] of Object.entries(ways)) samples[way]!.push(...(await timed(N, one)));
  }
  const p50 = (way: string) => quantile(samples[way]!, 0.5);
  console.log(`| way | tasks | p50 ms | p95 ms |\n|---|---|---|---|`);
  for (const way of Object.keys(ways)) {
    console.log(
      `| ${way} | ${samples[way]!.length} | ${p50(way).toFixed(2)} | ${quantile(samples[way]!, 0.95).toFixed(2)} |`,
    );
  }
  console.log(
    `\nbridged − direct p50: ${(p50("bridged") - p50("direct")).toFixed(2)} ms; ` +
      `handler − direct p50: ${(p50("handler") - p50("direct")).toFixed(2)} ms; ` +
      `builtin p50 (Triad with no agent): ${p50("builtin").toFixed(2)} ms`,
  );
  await worker.cleanup();
  await distributor.cleanup();
  await coordinator.cleanup();
  await agent.close();
}

await main();
process.exit(0);
