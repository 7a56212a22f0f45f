import fc from "fast-check";
import { fuzzParams, type TaskRef } from "./inputs.js";
import type { FuzzSystem } from "./system.js";

/** What answerProblem says of a request the server never answered. */
export const NO_ANSWER = "no answer (the connection closed or timed out)";

const TERMINAL = new Set(["completed", "failed", "abandoned"]);

/** How long an accepted task may take to end (FUZZ_BOUND_MS; default 15 s). */
export const TERMINAL_BOUND_MS = Number(process.env.FUZZ_BOUND_MS ?? 15_000);

/**
 * What the fuzzed API said about tasks: the ids it accepted (a 2xx, or an A2A task not
 * rejected) and the ids it refused (4xx). The invariant of issue 21 is checked against it:
 * every process alive, every accepted task terminal within a bound, nothing else recorded.
 */
export class TaskBook {
  /** Accepted in the current run (each fast-check run starts a new one). */
  private runAccepted = new Map<string, string>();
  /** Accepted ever, with what was sent (for the report). */
  readonly accepted = new Map<string, string>();
  readonly refused = new Map<string, string>();

  startRun(): void {
    this.runAccepted = new Map();
  }

  accept(taskId: string, what: string): void {
    this.runAccepted.set(taskId, what);
    if (!this.accepted.has(taskId)) this.accepted.set(taskId, what);
  }

  /** The n-th most recently accepted task (a real id to aim GETs, cancels and messages at). */
  pick(n: number): string | undefined {
    const ids = [...this.accepted.keys()];
    return ids.length === 0 ? undefined : ids[ids.length - 1 - (n % ids.length)];
  }

  /** A task reference as an id: the reference itself, or a recently accepted task's id. */
  resolve(ref: TaskRef): string {
    return typeof ref === "string" ? ref : (this.pick(ref.recent) ?? "no-task-yet");
  }

  refuse(taskId: string, what: string): void {
    this.refused.set(taskId, what);
  }

  /** Why the invariant does not hold after this run (empty when it does). */
  async violations(system: FuzzSystem, boundMs = TERMINAL_BOUND_MS): Promise<string[]> {
    const problems = [...(await system.deadParts())];
    if (problems.length > 0) return problems;
    const open = new Map(this.runAccepted);
    const deadline = performance.now() + boundMs;
    while (open.size > 0 && performance.now() < deadline) {
      for (const id of [...open.keys()]) {
        const status = await system.taskStatus(id);
        if (status !== null && TERMINAL.has(status)) open.delete(id);
      }
      if (open.size > 0) await new Promise((r) => setTimeout(r, 100));
    }
    for (const [id, what] of open) {
      const status = await system.taskStatus(id);
      problems.push(
        `accepted task ${JSON.stringify(id)} is ${status ?? "missing"} after ${boundMs} ms: ${what}`,
      );
    }
    const recorded = await system.recordedIds();
    for (const id of recorded) {
      if (!this.accepted.has(id)) {
        problems.push(
          `task ${JSON.stringify(id)} is recorded but was never accepted` +
            (this.refused.has(id) ? ` (refused: ${this.refused.get(id)})` : ""),
        );
      }
    }
    problems.push(...(await system.deadParts()));
    return problems;
  }
}

/** Whether an HTTP status is an honest answer: below 500, or 503 with Retry-After. */
export function honestStatus(status: number, retryAfter: string | null | undefined): boolean {
  if (status >= 200 && status < 500) return true;
  return status === 503 && retryAfter !== null && retryAfter !== undefined && retryAfter !== "";
}

/** A short, bounded description of a request for failure reports. */
export function describeInput(value: unknown, max = 300): string {
  let text: string;
  try {
    text = typeof value === "string" ? value : JSON.stringify(value);
  } catch {
    text = String(value);
  }
  if (text === undefined) text = String(value);
  return text.length > max ? `${text.slice(0, max)}… (${text.length} chars)` : text;
}

/** Whether a reply shows a stack trace or an install path. */
export function leaksInternals(text: string): boolean {
  return /\n\s+at .+\(.+:\d+:\d+\)|node_modules\//.test(text);
}

/** What is wrong with an answer, if anything: no answer at all, a 5xx other than 503 + Retry-After, a leaked stack. */
export function answerProblem(answer: {
  status: number;
  headers: Record<string, string>;
  body: string;
}): string | null {
  if (answer.status === 0) return NO_ANSWER;
  if (!honestStatus(answer.status, answer.headers["retry-after"])) {
    return `answered ${answer.status}: ${describeInput(answer.body, 200)}`;
  }
  if (leaksInternals(answer.body)) {
    return `answered ${answer.status} with a stack trace or install path: ${describeInput(answer.body, 200)}`;
  }
  return null;
}

/** One kind of fuzz input: how to generate it for a system, and how to send it (the problems it met). */
export type FuzzProbe<T> = {
  arbitrary(system: FuzzSystem): fc.Arbitrary<T>;
  send(system: FuzzSystem, book: TaskBook, input: T): Promise<string[]>;
  /** Runs before each run's first input (e.g. innocent work that must still end). */
  beforeRun?(system: FuzzSystem, book: TaskBook): Promise<void>;
};

/**
 * One fast-check run: the inputs sent in order, each answer judged, then the invariant checked
 * (alive, accepted tasks terminal, nothing else recorded). Throws with every problem found.
 * FUZZ_LOG_ONLY=1 prints the problems instead of failing (to survey a tree with known holes).
 */
export async function checkRun<T>(
  system: FuzzSystem,
  book: TaskBook,
  probe: FuzzProbe<T>,
  inputs: T[],
  concurrency = 1,
): Promise<void> {
  book.startRun();
  await probe.beforeRun?.(system, book);
  const problems: string[] = [];
  // In waves of `concurrency` inputs at once: races between requests are part of the input.
  for (let i = 0; i < inputs.length; i += concurrency) {
    const wave = inputs.slice(i, i + concurrency);
    for (const found of await Promise.all(wave.map((input) => probe.send(system, book, input)))) {
      problems.push(...found);
    }
    if (problems.some((p) => p.includes(NO_ANSWER)) && (await system.deadParts()).length > 0) break;
  }
  problems.push(...(await book.violations(system)));
  if (problems.length === 0) return;
  if (process.env.FUZZ_LOG_ONLY) {
    for (const p of problems) console.log("PROBLEM", p.slice(0, 800));
    return;
  }
  throw new Error(`${problems.length} problem(s):\n- ${problems.map((p) => p.slice(0, 2000)).join("\n- ")}`);
}

/** Runs a property over arrays of a probe's inputs with the suite's fast-check parameters. */
export function fuzzProbe<T>(
  system: FuzzSystem,
  book: TaskBook,
  probe: FuzzProbe<T>,
  options: { runs: number; minLength: number; maxLength: number },
): Promise<void> {
  return fc.assert(
    fc.asyncProperty(
      fc.array(probe.arbitrary(system), { minLength: options.minLength, maxLength: options.maxLength }),
      fc.constantFrom(1, 1, 2, 4),
      (inputs, concurrency) => checkRun(system, book, probe, inputs, concurrency),
    ),
    fuzzParams(options.runs),
  );
}
