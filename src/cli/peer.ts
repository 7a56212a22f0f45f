import type { Logger } from "../core/logger.js";
import { fetchFailure, PASS_OVER_MS } from "./api-client.js";
import { UsageError } from "./options.js";

/**
 * The agent id behind an A2A URL (GET /a2a). Waits for the peer to come up, so tiers can be
 * started in any order; gives up after `timeoutMs`. Each ask waits `answerWithinMs` (PASS_OVER_MS, 2 s) at
 * most; `onMiss` hears of each ask that got no agent id.
 */
export async function discoverAgentId(
  baseUrl: string,
  log: Logger,
  timeoutMs = 60_000,
  options: { answerWithinMs?: number; onMiss?: () => void } = {},
): Promise<string> {
  const url = a2aUrl(baseUrl);
  const deadline = performance.now() + timeoutMs;
  let warned = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(options.answerWithinMs ?? PASS_OVER_MS) });
      if (res.ok) {
        const body = (await res.json()) as { agent_id?: unknown };
        if (typeof body.agent_id === "string") return body.agent_id;
      }
      throw new Error(`GET ${url} answered ${res.status} without an agent id`);
    } catch (err) {
      options.onMiss?.();
      if (performance.now() > deadline) {
        throw new Error(`no Triad agent answered at ${url} within ${timeoutMs} ms: ${fetchFailure(err)}`);
      }
      if (!warned) {
        log.warn({ url: url.href }, "waiting for the peer to come up");
        warned = true;
      }
      await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 2000)));
    }
  }
}

/**
 * A coordinator of the list that did not answer by `giveUpMs` is asked on, however long it takes
 * (every 2 s): one that was down when the distributor started and comes back later joins the
 * failover list then. (It was dropped for good, and a distributor whose coordinator then died
 * stayed on it while the one that came back went unused.)
 */
function askUntilFound(
  found: Promise<CoordinatorFound>,
  url: string,
  log: Logger,
): Promise<CoordinatorFound> {
  return found.catch((err: unknown) => {
    log.warn(
      { url, err: (err as Error).message },
      "a coordinator has not answered yet; still asking (it joins the failover list once it answers)",
    );
    return discoverAgentId(url, log, Number.POSITIVE_INFINITY).then((id) => ({ id, url }));
  });
}

function a2aUrl(baseUrl: string): URL {
  try {
    return new URL("/a2a", baseUrl);
  } catch {
    throw new UsageError(`"${baseUrl}" is not a URL (expected e.g. http://127.0.0.1:7400)`);
  }
}

export type CoordinatorFound = { id: string; url: string };

/**
 * The agent ids behind a distributor's `--coordinator URL1,URL2,...`, the list's order being the
 * preference: the current coordinator is the first of the list that answers — a URL is passed
 * over only once it failed to answer (refused, or no answer within `answerWithinMs`), and
 * taken again if it answers before a later one does. `ready`: the others that answered by
 * then, in the order the list goes round from the current one (the failover order); `later`:
 * the others, each resolved when it answers (added to the failover list then), however late:
 * they never reject (askUntilFound asks on for ever, with URLs already checked).
 * Every URL is asked at once; rejects when none answered within `giveUpMs`.
 */
export async function discoverCoordinators(
  urls: string[],
  log: Logger,
  options: { answerWithinMs?: number; giveUpMs?: number } = {},
): Promise<{
  first: CoordinatorFound;
  rest: { ready: CoordinatorFound[]; later: Array<Promise<CoordinatorFound>> };
}> {
  if (urls.length === 0) throw new UsageError("--coordinator needs at least one URL");
  for (const url of urls) a2aUrl(url); // a usage error before anything is asked
  type State = { id?: string; missed: boolean; failed?: unknown };
  const states: State[] = urls.map(() => ({ missed: false }));
  let changed: () => void = () => {};
  const change = () => changed();
  const found = urls.map((url, i) =>
    discoverAgentId(url, log, options.giveUpMs ?? 60_000, {
      ...(options.answerWithinMs !== undefined && { answerWithinMs: options.answerWithinMs }),
      onMiss: () => {
        states[i]!.missed = true;
        change();
      },
    }).then(
      (id) => {
        states[i]!.id = id;
        change();
        return { id, url };
      },
      (err: unknown) => {
        states[i]!.failed = err;
        change();
        throw err;
      },
    ),
  );
  // Those never awaited below must not end the process as unhandled rejections.
  for (const p of found) p.catch(() => {});
  let firstIndex: number;
  for (;;) {
    const next = new Promise<void>((resolve) => {
      changed = resolve;
    });
    // The first of the list that answered, unless one before it has not been heard from yet.
    const k = states.findIndex((s) => s.id !== undefined || (!s.missed && s.failed === undefined));
    if (k >= 0 && states[k]!.id !== undefined) {
      firstIndex = k;
      break;
    }
    if (states.every((s) => s.failed !== undefined)) throw states[0]!.failed;
    await next;
  }
  const ready: CoordinatorFound[] = [];
  const later: Array<Promise<CoordinatorFound>> = [];
  for (let step = 1; step < urls.length; step++) {
    const i = (firstIndex + step) % urls.length;
    const id = states[i]!.id;
    if (id !== undefined) ready.push({ id, url: urls[i]! });
    else later.push(askUntilFound(found[i]!, urls[i]!, log));
  }
  return { first: { id: states[firstIndex]!.id!, url: urls[firstIndex]! }, rest: { ready, later } };
}

/**
 * Each coordinator of `later` (discoverCoordinators) joins the failover list through `add` once
 * it answers. Those promises are not meant to reject, but one that does, or an `add` that throws,
 * must not end the distributor as an unhandled rejection (exit 1, its work handed back): it is
 * logged with its code and the distributor serves on with the coordinators it has. Resolves
 * once every one has been added or given up.
 */
export async function addWhenTheyAnswer(
  later: Array<Promise<CoordinatorFound>>,
  add: (c: CoordinatorFound) => void,
  log: Logger,
): Promise<void> {
  await Promise.all(
    later.map((p) =>
      p.then(add).catch((err: unknown) => {
        const code = (err as { code?: unknown } | null)?.code;
        log.error(
          { err, code: typeof code === "string" ? code : "ERR_COORDINATOR_NOT_ADDED" },
          "a coordinator of --coordinator could not join the failover list; serving on without it",
        );
      }),
    ),
  );
}
