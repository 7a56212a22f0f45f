// What each Redis command and Lua script costs Redis a task: a Triad run in this process on its
// own redis-server whose SLOWLOG records every command (slowlog-log-slower-than 0) with the time
// Redis spent executing it. Each EVALSHA is named after its script (the sha1 of a .lua file of the
// build, alone or after another one as a prelude). Unlike the rate, these counts and times move
// little with a loaded machine, so two builds can be compared per script (issue 23, point 4).
//
//   npm run build && npx tsx bench/script-costs.ts --mode one --tasks 5000
//   TRIAD_BENCH_DIST=../before/dist npx tsx bench/script-costs.ts --mode one   (another build)
//
// The time of a call is Redis's own execution of it (the script's commands included), not the
// reading and parsing of the request or the writing of the reply: the table's total is below the
// server's CPU a task (said beside it; the rest is networking and the event loop).
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createClient } from "redis";
import { benchFlags } from "./lib/flags.js";
import { BenchRedis, redisCpuSeconds } from "./lib/redis.js";
import { InProcessTriad, runEcho, SUBMIT_MODES } from "./triad-inprocess.js";

const { mode, tasks, warm } = benchFlags(
  import.meta.url,
  {
    mode: {
      kind: "string",
      default: "one",
      choices: SUBMIT_MODES,
      value: "MODE",
      help: "one, window (100 in flight) or batch",
    },
    tasks: { kind: "count", default: 5000, min: 1, help: "tasks measured" },
    warm: { kind: "count", default: 5000, help: "tasks before them, not measured" },
  },
  {
    command: "npx tsx bench/script-costs.ts [--mode one|window|batch] [--tasks N] [--warm N]",
    about: `Runs N no-op tasks through Triad in this process on a redis-server of its own that logs every
command, and prints (Markdown) each command's and script's calls a task, microseconds a call and
microseconds a task, beside the server's CPU a task. TRIAD_BENCH_DIST=<folder> runs another build.`,
  },
);

/** Every .lua file under `dir`, by file name (without .lua). */
function luaFiles(dir: string, out = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) luaFiles(path, out);
    else if (entry.endsWith(".lua")) out.set(entry.slice(0, -4), readFileSync(path, "utf8"));
  }
  return out;
}

/**
 * sha1 -> a script's name: each script file (`<name>-<numKeys>.lua`) alone, after one prelude
 * (a .lua file without the key count: functions scripts share) and after two, as withPrelude
 * puts them (src/core/store/script.ts).
 */
function scriptNames(build: string): Map<string, string> {
  const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
  const files = [...luaFiles(build)];
  const scripts = files.filter(([name]) => /-\d+$/.test(name));
  const preludes = files.filter(([name]) => !/-\d+$/.test(name));
  const names = new Map<string, string>();
  for (const [name, lua] of scripts) {
    names.set(sha1(lua), name);
    for (const [, inner] of preludes) {
      names.set(sha1(`${inner}\n${lua}`), name);
      for (const [, outer] of preludes) names.set(sha1(`${outer}\n${inner}\n${lua}`), name);
    }
  }
  return names;
}

const build = fileURLToPath(new URL(`../${process.env.TRIAD_BENCH_DIST ?? "dist"}/`, import.meta.url));
const names = scriptNames(build);
const redis = await BenchRedis.start();
const log = createClient({ url: redis.url });
await log.connect();
type Row = { calls: number; us: number; called: Map<string, number> };
/** id, time, microseconds, arguments, client address, client name */
type Entry = [number, number, number, string[], string, string];
const rows = new Map<string, Row>();
let cpuUs = 0;
try {
  const triad = await InProcessTriad.start({ url: redis.url });
  try {
    if (warm > 0) await runEcho(triad.coordinator, warm, mode, { idPrefix: `${triad.runId}-warm` });
    await log.sendCommand(["CONFIG", "SET", "slowlog-max-len", "10000000"]);
    await log.sendCommand(["SLOWLOG", "RESET"]);
    await log.sendCommand(["CONFIG", "SET", "slowlog-log-slower-than", "0"]);
    const before = await redisCpuSeconds(redis.url);
    const f = await runEcho(triad.coordinator, tasks, mode, { idPrefix: `${triad.runId}-run` });
    cpuUs = ((await redisCpuSeconds(redis.url)) - before) * (1e6 / tasks);
    await log.sendCommand(["CONFIG", "SET", "slowlog-log-slower-than", "-1"]);
    process.stderr.write(`${Math.round(f.perSecond)} tasks/s, Redis CPU ${cpuUs.toFixed(1)} us a task\n`);
  } finally {
    await triad.stop();
  }
  const entries = (await log.sendCommand(["SLOWLOG", "GET", "-1"])) as Entry[];
  // Newest first: walked oldest first, the commands a script called come just before it.
  let called: string[] = [];
  for (const [, , us, args, client] of entries.reverse()) {
    const command = String(args[0]).toUpperCase();
    if (client === "?:0") {
      called.push(command); // a command a script called: its time is in the script's
      continue;
    }
    if (command === "SLOWLOG" || command === "CONFIG" || command === "INFO") continue;
    const key =
      command === "EVALSHA"
        ? (names.get(String(args[1])) ?? `script ${String(args[1]).slice(0, 12)}`)
        : command;
    const row = rows.get(key) ?? { calls: 0, us: 0, called: new Map() };
    row.calls++;
    row.us += us;
    for (const c of called) row.called.set(c, (row.called.get(c) ?? 0) + 1);
    called = [];
    rows.set(key, row);
  }
} finally {
  await log.close();
  await redis.stop();
}

const sorted = [...rows].sort((a, b) => b[1].us - a[1].us);
const total = sorted.reduce((sum, [, r]) => sum + r.us, 0);
console.log(`## Redis a task, ${mode}, ${tasks} tasks (${process.env.TRIAD_BENCH_DIST ?? "dist"})`);
console.log();
console.log(
  "| command or script | calls a task | us a call | us a task | commands a call (what it called) |",
);
console.log("| --- | --- | --- | --- | --- |");
for (const [name, r] of sorted) {
  const called = [...r.called].sort((a, b) => b[1] - a[1]);
  const inner = called.reduce((sum, [, n]) => sum + n, 0) / r.calls;
  const what = called.map(([c, n]) => `${c} ${(n / r.calls).toFixed(2)}`).join(", ");
  console.log(
    `| ${name} | ${(r.calls / tasks).toFixed(3)} | ${(r.us / r.calls).toFixed(2)} | ${(r.us / tasks).toFixed(2)} | ${inner.toFixed(2)}${what ? ` (${what})` : ""} |`,
  );
}
console.log(`| all, executing | | | ${(total / tasks).toFixed(2)} |`);
console.log(`| server CPU (INFO cpu) | | | ${cpuUs.toFixed(1)} |`);
process.exit(0);
