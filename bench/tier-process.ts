// One tier of Triad as its own OS process, for the benchmark's "separate processes over HTTP"
// runs: each agent listens on a free loopback port and reaches its peers by URL, with the
// shared secret from TRIAD_SECRET. It prints JSON lines on stdout ({ ready, url } once up;
// { result } after a run) and takes commands as JSON lines on stdin. SIGTERM stops it.
//
//   node --import tsx bench/tier-process.ts --role coordinator --id c --redis URL
//   node --import tsx bench/tier-process.ts --role distributor --id d --coordinator c=URL --redis URL
//   node --import tsx bench/tier-process.ts --role worker --id w --distributor d=URL [--concurrency N]
// With BENCH_CPU_PROFILE_DIR set, the process writes a CPU profile there when it stops
// (<role>-<pid>.cpuprofile, for node --cpu-prof's viewers), as --cpu-prof cannot be passed on.
// (any role: --linger MS sets timing.batchLingerMs; --posts sends a POST per batch, not streams)
import { writeFileSync } from "node:fs";
import { Session } from "node:inspector/promises";
import { join } from "node:path";
import type { CoordinatorAgent, DistributorAgent, WorkerAgent } from "../src/index.js";
import { onCommands, stopWithParent } from "./lib/child.js";
import { benchFlags } from "./lib/flags.js";
import { triad } from "./lib/triad.js";
import { runEcho, type SubmitMode, untilReady } from "./triad-inprocess.js";

const args = benchFlags(import.meta.url, {
  role: {
    kind: "string",
    required: true,
    choices: ["coordinator", "distributor", "worker"],
    help: "the tier this process runs",
  },
  id: { kind: "string", value: "ID", help: "its agent id (default <role>-<pid>)" },
  redis: { kind: "string", value: "URL", help: "the store (coordinator, distributor)" },
  coordinator: { kind: "string", value: "ID=URL", help: "a distributor's coordinator" },
  distributor: { kind: "string", value: "ID=URL", help: "a worker's distributor" },
  concurrency: { kind: "count", default: 100, min: 1, help: "a worker's concurrency" },
  linger: { kind: "number", min: 0, value: "MS", help: "timing.batchLingerMs (default the agents' own)" },
  posts: { kind: "boolean", help: "a POST per batch to its peers, not message streams" },
});

const say = (line: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(line)}\n`);
const a2a = { agentPort: 0, router: null, streams: !args.posts };
const timing = args.linger === undefined ? {} : { batchLingerMs: args.linger };

/** "id=url" of a peer. */
function peer(value: string | undefined, what: string): { id: string; url: string } {
  const at = value?.indexOf("=") ?? -1;
  if (value === undefined || at < 1) throw new Error(`--${what} must be ID=URL`);
  return { id: value.slice(0, at), url: value.slice(at + 1) };
}

async function main(): Promise<void> {
  const id = args.id ?? `${args.role}-${process.pid}`;
  let agent: CoordinatorAgent | DistributorAgent | WorkerAgent;
  if (args.role === "coordinator") {
    const coordinator = new triad.CoordinatorAgent({ agentId: id, redis: { url: args.redis! }, a2a, timing });
    agent = coordinator;
    onCommands((c) => void command(coordinator, c as Command));
  } else if (args.role === "distributor") {
    const c = peer(args.coordinator, "coordinator");
    agent = new triad.DistributorAgent({
      agentId: id,
      coordinatorId: c.id,
      coordinatorUrl: c.url,
      redis: { url: args.redis! },
      a2a,
      timing,
    });
  } else if (args.role === "worker") {
    const d = peer(args.distributor, "distributor");
    agent = new triad.WorkerAgent({
      agentId: id,
      distributorId: d.id,
      distributorUrl: d.url,
      concurrency: args.concurrency,
      a2a,
      timing,
    });
  } else {
    throw new Error("--role must be coordinator, distributor or worker");
  }
  const profile = await startProfile();
  await agent.initialize();
  say({ ready: true, url: agent.a2a.url, pid: process.pid });
  const stop = () =>
    void agent
      .cleanup()
      .then(profile)
      .finally(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
  stopWithParent(stop);
}

/** Starts the CPU profiler if BENCH_CPU_PROFILE_DIR says where to write; returns what stops it. */
async function startProfile(): Promise<() => Promise<void>> {
  const dir = process.env.BENCH_CPU_PROFILE_DIR;
  if (!dir) return async () => {};
  const session = new Session();
  session.connect();
  await session.post("Profiler.enable");
  await session.post("Profiler.start");
  return async () => {
    const { profile } = await session.post("Profiler.stop");
    writeFileSync(join(dir, `${args.role}-${process.pid}.cpuprofile`), JSON.stringify(profile));
  };
}

type Command = {
  cmd: "run";
  n: number;
  mode: SubmitMode;
  batchSize?: number;
  distributors: number;
  tag: string;
};

async function command(coordinator: CoordinatorAgent, c: Command): Promise<void> {
  try {
    await untilReady(coordinator, c.distributors);
    const result = await runEcho(coordinator, c.n, c.mode, {
      idPrefix: `${c.tag}-${process.pid}`,
      ...(c.batchSize ? { batchSize: c.batchSize } : {}),
    });
    say({ result });
  } catch (err) {
    say({ result: null, error: (err as Error).message });
  }
}

await main();
