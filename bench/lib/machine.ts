import { execFileSync } from "node:child_process";
import { cpus, totalmem } from "node:os";

/** What the figures were measured on, for docs/PERFORMANCE.md. */
export type Machine = { nproc: number; cpu: string; memory: string; node: string; redis: string; os: string };

export function describeMachine(): Machine {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  const redis = /v=(\S+)/.exec(run("redis-server", ["--version"]))?.[1] ?? "unknown";
  return {
    nproc: Number(run("nproc", [])) || cpus().length,
    cpu: cpus()[0]?.model.trim() ?? "unknown",
    memory: `${Math.round(totalmem() / 1024 ** 3)} GiB`,
    node: process.version,
    redis,
    os: run("uname", ["-sr"]),
  };
}
