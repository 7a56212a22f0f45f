import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { type ChaosCluster, DEFAULT_TIMING, FAST_TIMING, sleep } from "../../helpers/chaos-cluster.js";
import { FIXTURE_HANDLERS, runScenario, type Scenario } from "./common.js";

export type Waiting = { task_id: string; input_request?: { q?: number } };
type StepRun = { task: string; node: string; attempt: number; t: number };

/**
 * Interrupted graphs answered while workers die: each `approval` graph (fixtures) asks twice;
 * a client answers every question it finds in GET /tasks?status=input_required while the
 * workers are killed -9 (one restarted at once, one left to be declared dead). Beyond the
 * checker's rules (0 lost, one commit each): every graph completed with both answers, in order,
 * and every step (never skipped); no step before an answered interrupt ran again after its
 * answer was given, in any attempt whose outcome was taken (a resume starts at the interrupt,
 * from the distributor's checkpoint). An attempt refused by its fence may run anything again —
 * a dispatch still on its way to a killed worker is delivered to its restarted process: execution
 * is at-least-once, the commit is not — and is left out.
 */
export const inputKills: Scenario = {
  title:
    "interrupted graphs answered while workers are killed -9: none lost, no step before an answer re-run",
  name: "human input, kill -9 workers",
  timeoutMs: { short: 120_000, long: 600_000 },
  run: (ctx) => {
    const long = ctx.mode === "long";
    const timing = long ? DEFAULT_TIMING : FAST_TIMING;
    const count = long ? 400 : 10;
    const answeredAt = new Map<string, number>(); // `${task}:${q}` -> when the answer was taken
    const ids = Array.from({ length: count }, (_, i) => `hi-${i}`);
    return runScenario(
      ctx,
      "human input, kill -9 workers",
      {
        timing,
        handlers: FIXTURE_HANDLERS,
        topology: { d1: [{ id: "w1" }, { id: "w2" }] },
      },
      async (cluster) => {
        let stop = false;
        const answering = answerAll(cluster, answeredAt, () => stop);
        const faults = async () => {
          await sleep(long ? 3000 : 600);
          await cluster.kill("w1");
          await cluster.restart("w1");
          await sleep(long ? 3000 : 800);
          const killedAt = Date.now();
          await cluster.kill("w2");
          await cluster.waitForOp("dead", { target: "w2" }, killedAt - 1, 20_000);
          await cluster.restart("w2");
        };
        const faulting = faults();
        for (let k = 0; k < ids.length; k += 4) {
          void cluster.submit(
            ids.slice(k, k + 4).map((id) => ({
              task_id: id,
              task_type: "approval",
              payload: { task: id, ms: 40 + ((k * 37) % 160) },
            })),
          );
          await sleep(long ? 100 : 150);
        }
        await faulting;
        await cluster.waitUntil(() => answeredAt.size === 2 * count, long ? 120_000 : 30_000, "every answer");
        stop = true;
        await answering;
        return { faultKinds: "kill -9 + restart of w1 (at once) and w2 (once declared dead)" };
      },
      async (cluster, result) => {
        expect(result.stats.completed).toBe(count);
        const runs = stepRuns(cluster.dir);
        const refused = refusedAttempts(cluster);
        const late: string[] = [];
        for (const id of ids) {
          const record = await cluster.api<{ result: { steps: string[]; answers: string[] } }>(
            "GET",
            `/tasks/${id}`,
          );
          // Never skipped: every step, both answers in the order asked.
          expect(record.result.steps, id).toEqual(["draft", "polish", "send"]);
          expect(record.result.answers, id).toEqual([`${id}:1`, `${id}:2`]);
          const mine = runs.filter((r) => r.task === id);
          for (const node of ["draft", "polish", "send"])
            expect(
              mine.some((r) => r.node === node),
              `${id} ${node}`,
            ).toBe(true);
          for (const r of mine.filter((m) => !refused.has(`${id}#${m.attempt}`))) {
            const before = r.node === "draft" ? 1 : r.node === "polish" ? 2 : 0;
            const answered = before > 0 ? answeredAt.get(`${id}:${before}`) : undefined;
            if (answered !== undefined && r.t > answered)
              late.push(`${id}: ${r.node} ran after answer ${before}`);
          }
        }
        // The figures docs/RELIABILITY.md quotes for this scenario.
        const taken = runs.filter((r) => !refused.has(`${r.task}#${r.attempt}`));
        const byNode = (list: StepRun[]) =>
          ["draft", "polish", "send"]
            .map((n) => `${n} ${list.filter((r) => r.node === n).length}`)
            .join(", ");
        process.stdout.write(
          `\ninput-kills: ${count} graphs, ${answeredAt.size} answers; step runs in attempts whose outcome was taken: ${byNode(taken)}; ` +
            `${runs.length - taken.length} more in ${refused.size} attempts refused by their fence (left out); ` +
            `${late.length} steps ran again after their answer\n`,
        );
        expect(late).toEqual([]);
      },
    );
  },
};

/**
 * Answers every question found waiting (`<task>:<q>`), until told to stop; a 409 (taken already)
 * is fine. With `allowed`, only the questions it allows now (the others are left waiting).
 */
export async function answerAll(
  cluster: ChaosCluster,
  answeredAt: Map<string, number>,
  stopped: () => boolean,
  allowed: (q: number | undefined) => boolean = () => true,
): Promise<void> {
  while (!stopped()) {
    const listed = await cluster
      .api<{ tasks: Waiting[] }>("GET", "/tasks?status=input_required&limit=1000")
      .catch(() => ({ tasks: [] as Waiting[] }));
    for (const t of listed.tasks) {
      const key = `${t.task_id}:${t.input_request?.q}`;
      if (answeredAt.has(key) || !allowed(t.input_request?.q)) continue;
      try {
        await cluster.api("POST", `/tasks/${t.task_id}/input`, { value: key });
        answeredAt.set(key, Date.now());
      } catch {
        // 409 (answered already, or moved on) or the coordinator busy: looked at again next round.
      }
    }
    await sleep(100);
  }
}

/** `<task>#<attempt>` of every attempt whose outcome its fence refused: attempt k is the task's k-th dispatch. */
function refusedAttempts(cluster: ChaosCluster): Set<string> {
  const fenceOf = new Map<string, number>();
  const dispatches = new Map<string, number>();
  const rejected = new Set<string>();
  for (const e of cluster.history()) {
    if (e.task_id === undefined) continue;
    if (e.op === "dispatched") {
      const k = (dispatches.get(e.task_id) ?? 0) + 1;
      dispatches.set(e.task_id, k);
      fenceOf.set(`${e.task_id}#${k}`, e.fence ?? 0);
    }
    if (e.op === "rejected") rejected.add(`${e.task_id}@${e.fence}`);
  }
  return new Set(
    [...fenceOf].filter(([key, fence]) => rejected.has(`${key.split("#")[0]}@${fence}`)).map(([key]) => key),
  );
}

/** Every graph step run, from the `.steps` files the fixture handlers write beside each worker's history. */
function stepRuns(dir: string): StepRun[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".steps"))
    .flatMap((f) =>
      readFileSync(join(dir, f), "utf8")
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as StepRun),
    );
}
