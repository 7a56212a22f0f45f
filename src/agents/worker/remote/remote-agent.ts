import type { AgentCard } from "@a2a-js/sdk";
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  createAuthenticatingFetchWithRetry,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";
import { routeSdkConsole } from "../../../core/a2a-sdk-console.js";
import { TriadError } from "../../../core/errors.js";
import type { JsonValue } from "../../../core/json.js";
import { type Logger, silentLogger } from "../../../core/logger.js";
import { InputRequired } from "../../../core/state/input-required.js";
import type { RemoteAgentInfo } from "../../protocol.js";
import { sleep, untilAborted } from "./abortable.js";
import { InFlightCap } from "./in-flight-cap.js";
import { undefinedWhenLost } from "./lost-task.js";
import { DEFAULT_RECONNECT_WINDOW_MS } from "./reconnect.js";
import { callFailure, checkBearerToken, isRemoteCallError, statusCheckingFetch } from "./remote-errors.js";
import { RemoteFollow, type RemoteJob } from "./remote-follow.js";
import { answerMessageId, type RemoteEnd } from "./remote-outcome.js";
import { readRemoteTask } from "./remote-task-record.js";

export type RemoteAgentOptions = {
  /** The agent's base URL (its card at /.well-known/agent-card.json), or the card's own URL (…json). */
  url: string;
  /** Sent as `Authorization: Bearer <token>`; default TRIAD_A2A_AGENT_TOKEN. "" sends none. */
  token?: string | undefined;
  /** Remote tasks in flight at once (more wait their turn). Default 16. */
  concurrency?: number | undefined;
  /** Use SendStreamingMessage / SubscribeToTask; default: what the card says. */
  streaming?: boolean | undefined;
  /** Longest pause between two GetTask polls of a remote task (no streaming). Default 500 ms. */
  pollIntervalMs?: number | undefined;
  /** Longest pause between two tries to read the card. Default 30 s. */
  maxCardRetryMs?: number | undefined;
  /**
   * How long the agent may be away (connection refused or reset: a restart) while a remote task
   * is in flight: its calls are tried again, with backoff, for up to this long before the
   * attempt fails. Default 10 s; 0 fails at once.
   */
  reconnectWindowMs?: number | undefined;
  logger?: Logger | undefined;
};

export type { RemoteAgentInfo, RemoteJob };

type Connection = { card: AgentCard; client: Client };

/**
 * One remote A2A agent as Triad's workers call it: its card read (and read again until it can
 * be), one SDK client, and a cap on the tasks in flight to it. run() takes a task to the remote
 * task's end: it records the remote task id as it waits on it, and an attempt that finds a
 * record from an earlier attempt attaches to that remote task instead of sending the work again.
 */
export class RemoteAgent {
  readonly url: string;
  readonly cap: InFlightCap;
  private readonly token: string;
  private readonly log: Logger;
  private readonly pollIntervalMs: number;
  private readonly maxCardRetryMs: number;
  private readonly reconnectWindowMs: number;
  private readonly closing = new AbortController();
  private connecting: Promise<Connection> | undefined;
  private connection: Connection | undefined;
  /** Why the card could not be read last time (cleared once it is). */
  private cardError: string | undefined;
  /** Settles when the first try to read the card has succeeded or failed. */
  private firstTry: Promise<void> | undefined;
  /** Ends the routing of the SDK's console lines to the logger given (from the first read of the card to close()). */
  private unrouteSdkConsole: (() => void) | undefined;

  constructor(private readonly options: RemoteAgentOptions) {
    this.url = options.url;
    this.token = options.token ?? process.env.TRIAD_A2A_AGENT_TOKEN ?? "";
    checkBearerToken(this.token, this.url);
    this.cap = new InFlightCap(options.concurrency ?? 16);
    this.log = (options.logger ?? silentLogger).child({ a2a_agent: options.url });
    this.pollIntervalMs = options.pollIntervalMs ?? 500;
    this.maxCardRetryMs = options.maxCardRetryMs ?? 30_000;
    this.reconnectWindowMs = options.reconnectWindowMs ?? DEFAULT_RECONNECT_WINDOW_MS;
  }

  /** Name, URL and skills, once the card has been read. */
  get info(): RemoteAgentInfo | undefined {
    const card = this.connection?.card;
    return card && { name: card.name, url: this.url, skills: card.skills.map((s) => s.id) };
  }

  /** Reads the card (once; a failure is logged and tried again, with backoff, until it succeeds or close()). */
  connect(signal?: AbortSignal): Promise<Connection> {
    if (this.connecting === undefined) {
      // The SDK's client writes some of what it notes on the console (an SSE event it cannot
      // parse): with a logger given (the worker's), they are lines of that log, not plain text.
      if (this.options.logger !== undefined && !this.closing.signal.aborted)
        this.unrouteSdkConsole = routeSdkConsole(this.options.logger);
      let tried!: () => void;
      this.firstTry = new Promise((r) => {
        tried = r;
      });
      this.connecting = this.readCard(tried);
    }
    if (signal === undefined) return this.connecting;
    return untilAborted(this.connecting, signal);
  }

  close(): void {
    this.unrouteSdkConsole?.();
    this.closing.abort(new TriadError("ERR_CLOSED", `the bridge to ${this.url} is closed`));
  }

  private async readCard(tried: () => void): Promise<Connection> {
    // A 401/403 is thrown as such (statusCheckingFetch): the SDK would say "An unexpected error occurred."
    const checked = statusCheckingFetch(fetch);
    const fetchImpl = this.token
      ? createAuthenticatingFetchWithRetry(checked, {
          headers: async () => ({ Authorization: `Bearer ${this.token}` }),
          shouldRetryWithHeaders: async () => undefined,
        })
      : checked;
    const resolver = new DefaultAgentCardResolver({ fetchImpl });
    const factory = new ClientFactory(
      ClientFactoryOptions.createFrom(ClientFactoryOptions.default, {
        transports: [new JsonRpcTransportFactory({ fetchImpl }), new RestTransportFactory({ fetchImpl })],
        cardResolver: resolver,
      }),
    );
    for (let failures = 0; ; failures++) {
      try {
        const card = this.url.endsWith(".json")
          ? await resolver.resolve(this.url, "")
          : await resolver.resolve(this.url);
        const client = await factory.createFromAgentCard(card);
        this.connection = { card, client };
        this.cardError = undefined;
        tried();
        // Not `name`: a JSON log line has the logger's own (triad), and a second one would replace it.
        this.log.info({ agent_name: card.name, skills: card.skills.map((s) => s.id) }, "A2A agent card read");
        return this.connection;
      } catch (err) {
        const said = this.cardError;
        this.cardError = callFailure(err, this.token !== "").cause;
        tried();
        const waitMs = Math.min(this.maxCardRetryMs, 500 * 2 ** Math.min(failures, 10));
        // At warn once, and again only when the reason changes: an agent down for a day is one
        // line, not one every 30 s (each try is at debug).
        const level = this.cardError === said ? "debug" : "warn";
        this.log[level](
          { err: this.cardError, retry_in_ms: waitMs, tries: failures + 1 },
          "cannot read the A2A agent's card; trying again",
        );
        await sleep(waitMs, this.closing.signal);
      }
    }
  }

  /** Runs one attempt: attach to the remote task an earlier attempt recorded, or send the work. */
  async run(job: RemoteJob): Promise<JsonValue> {
    const connecting = this.connect(job.signal);
    await Promise.race([this.firstTry, connecting]);
    if (this.connection === undefined) {
      // Fail now, saying why, rather than at the deadline: the task is retried as any other.
      throw new TriadError(
        "ERR_REMOTE_AGENT_UNREACHABLE",
        `the A2A agent at ${this.url} cannot be reached yet (its card: ${this.cardError ?? "not read"}); it is tried again`,
      );
    }
    const { card, client } = await connecting;
    const follow = new RemoteFollow({
      url: this.url,
      card,
      client,
      streaming: this.options.streaming ?? card.capabilities?.streaming === true,
      tokenSent: this.token !== "",
      pollIntervalMs: this.pollIntervalMs,
      reconnectWindowMs: this.reconnectWindowMs,
      log: this.log,
    });
    await this.cap.take(job.signal);
    let remoteId: string | undefined;
    try {
      const previous = job.saver ? await readRemoteTask(job.saver, job.taskId) : undefined;
      if (previous?.agent_url === this.url) {
        remoteId = previous.remote_task_id;
        const answered = job.answer && {
          key: job.answer.key,
          messageId: answerMessageId(job.taskId, job.answer?.key),
        };
        // Lost there (forgotten, or while followed): undefined, and sent anew below.
        let end = await follow.attach(remoteId, job.signal, answered);
        // Waiting there for the answer given here, which has not reached it yet: it goes to the
        // same remote task (once: an answer already forwarded is in the task's history, and
        // attach() follows the task instead; a question already answered has moved on, and its
        // key no longer matches).
        // Lost there once answered, too: as every loss, the work is sent anew below.
        if (end?.kind === "needs_input" && job.answer?.key === end.key)
          end = await follow.answer(remoteId, previous.context_id, job).catch(undefinedWhenLost);
        if (end !== undefined && end.kind !== "canceled" && end.kind !== "failed") return settle(end);
        // Ended without a result (or forgotten there): this attempt is the retry, and sends anew.
        this.log.info(
          { task: job.taskId, remote_task: remoteId, was: end?.kind ?? "unknown" },
          "sending again",
        );
        remoteId = undefined;
      }
      return settle(await follow.sendAnew(job, (id) => (remoteId = id)));
    } catch (err) {
      if (job.signal?.aborted && remoteId !== undefined) await follow.cancel(remoteId);
      else if (isRemoteCallError(err)) {
        // Said in the task's error too; logged here, where the worker's operator looks.
        this.log.warn(
          { task: job.taskId, remote_task: remoteId, code: err.code, err: err.message },
          "a call to the A2A agent failed; the attempt fails",
        );
      }
      throw err;
    } finally {
      this.cap.release();
    }
  }
}

/**
 * The attempt's outcome: a result; the remote question, which makes the task wait for input
 * (its answer is forwarded by the next attempt); or a failure with the remote agent's words.
 */
function settle(end: RemoteEnd): JsonValue {
  if (end.kind === "completed") return end.result;
  if (end.kind === "running") throw new TriadError("ERR_REMOTE_AGENT", "the remote task has not ended");
  if (end.kind === "needs_input") throw new InputRequired(end.question, end.key);
  // Refused there for good (REJECTED, AUTH_REQUIRED): the task fails without its retries.
  const final = end.kind === "failed" && end.final === true;
  throw new TriadError("ERR_REMOTE_TASK_FAILED", end.error, final ? { retryable: false } : undefined);
}
