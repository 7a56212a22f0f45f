import { randomUUID } from "node:crypto";
import {
  type AgentCard,
  type Artifact,
  CancelTaskRequest,
  GetTaskRequest,
  type Message,
  SendMessageRequest,
  type StreamResponse,
  SubscribeToTaskRequest,
  type Task,
} from "@a2a-js/sdk";
import {
  type Client,
  ClientFactory,
  ClientFactoryOptions,
  createAuthenticatingFetchWithRetry,
  DefaultAgentCardResolver,
  JsonRpcTransportFactory,
  RestTransportFactory,
} from "@a2a-js/sdk/client";
import { TaskNotFoundError } from "@a2a-js/sdk/errors";
import type { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../../../core/errors.js";
import type { JsonObject, JsonValue } from "../../../core/json.js";
import { type Logger, silentLogger } from "../../../core/logger.js";
import { InputRequired, isInputRequired } from "../../../core/state/input-required.js";
import type { RemoteAgentInfo } from "../../protocol.js";
import { aborted, sleep } from "./abortable.js";
import { InFlightCap } from "./in-flight-cap.js";
import {
  isLostTask,
  MAX_RESENDS_PER_ATTEMPT,
  notFoundAsLost,
  stillOwned,
  undefinedWhenLost,
} from "./lost-task.js";
import { DEFAULT_RECONNECT_WINDOW_MS, isAgentAway, reconnecting, refusedOnly } from "./reconnect.js";
import {
  callFailure,
  checkBearerToken,
  isRemoteCallError,
  remoteCallError,
  statusCheckingFetch,
} from "./remote-errors.js";
import {
  answerMessageId,
  answerPart,
  isAnswered,
  mergeArtifact,
  messageResult,
  type RemoteEnd,
  remoteEnd,
} from "./remote-outcome.js";
import { readRemoteTask, recordRemoteTask } from "./remote-task-record.js";

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

export type { RemoteAgentInfo };

/** One unit of work for the agent: the attempt's task, and where its remote task id is kept. */
export type RemoteJob = {
  /** The Triad task id: the thread of the record, and the message's metadata. */
  taskId: string;
  /** The message's parts: a data part, unless `text` is given instead. */
  data?: JsonObject;
  text?: string;
  /** Named in the message's metadata (`skill`), for agents that route on it. */
  skill?: string | undefined;
  /** The attempt's relay checkpointer: the remote task id is recorded through it. */
  saver?: BaseCheckpointSaver | undefined;
  /** The attempt's deadline: when it fires the remote task is canceled. */
  signal?: AbortSignal | undefined;
  /** The input given to the task's last question (its key names the remote task's question it answers). */
  answer?: { key: string; value: JsonValue } | undefined;
};

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
      let tried!: () => void;
      this.firstTry = new Promise((r) => {
        tried = r;
      });
      this.connecting = this.readCard(tried);
    }
    if (signal === undefined) return this.connecting;
    return Promise.race([this.connecting, aborted(signal)]);
  }

  close(): void {
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
        // Lost there while followed (isLostTask): as forgotten, sent anew below.
        let end = await this.attach(client, card, remoteId, job.signal, answered).catch(undefinedWhenLost);
        // Waiting there for the answer given here, which has not reached it yet: it goes to the
        // same remote task (once: an answer already forwarded is in the task's history, and
        // attach() follows the task instead; a question already answered has moved on, and its
        // key no longer matches).
        // Lost there once answered, too: as every loss, the work is sent anew below.
        if (end?.kind === "needs_input" && job.answer?.key === end.key)
          end = await this.answer(client, card, remoteId, previous.context_id, job).catch(undefinedWhenLost);
        if (end !== undefined && end.kind !== "canceled" && end.kind !== "failed") return settle(end);
        // Ended without a result (or forgotten there): this attempt is the retry, and sends anew.
        this.log.info(
          { task: job.taskId, remote_task: remoteId, was: end?.kind ?? "unknown" },
          "sending again",
        );
        remoteId = undefined;
      }
      for (let resends = 0; ; resends++) {
        try {
          return settle(await this.send(client, card, job, (id) => (remoteId = id)));
        } catch (err) {
          // The agent came back without the remote task: its loss, not the task's failure. Sent
          // again only by the attempt that still owns the task (a fenced put says so): one taken
          // back meanwhile (its worker thought dead) fails as before, and sends nothing.
          if (!isLostTask(err) || resends >= MAX_RESENDS_PER_ATTEMPT) throw err;
          if (job.saver && !(await stillOwned(job.saver, job.taskId, this.url, err))) throw err;
          this.log.warn(
            { task: job.taskId, remote_task: remoteId, err: err.message },
            "the A2A agent lost the remote task; sending the work again in the same attempt",
          );
          remoteId = undefined;
        }
      }
    } catch (err) {
      if (job.signal?.aborted && remoteId !== undefined) await this.cancel(client, remoteId);
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

  /** Sends the work as a new remote task and follows it to its end; `onId` learns its id. */
  private async send(
    client: Client,
    card: AgentCard,
    job: RemoteJob,
    onId: (id: string) => void,
  ): Promise<RemoteEnd> {
    const request = this.message(job);
    const streaming = this.options.streaming ?? card.capabilities?.streaming === true;
    // The remote task id goes to the distributor as soon as it is known, while the bridge
    // waits on the task (not before: a fast remote task would pay the round trip on top); the
    // outcome is reported only once the record is stored, so a worker that dies after
    // reporting has always left it for the next attempt.
    let recording: Promise<void> | undefined;
    const onTask = async (task: { id: string; contextId: string }) => {
      onId(task.id);
      if (job.saver) recording = this.record(job, task.id, task.contextId);
    };
    const end = streaming
      ? await this.sendStreaming(client, card, request, onTask, job.signal)
      : await this.sendPolling(client, card, request, onTask, job.signal);
    await recording;
    return end;
  }

  /**
   * A call to the agent; its failure (below A2A: connection, HTTP; or an A2A error) becomes an
   * error that names the agent, the call and the cause. An abort (the attempt's deadline or
   * cancel) is left as it is.
   */
  private async call<T>(
    operation: string,
    remoteTask: string | undefined,
    signal: AbortSignal | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.callError(err, operation, remoteTask, signal);
    }
  }

  /** A call tried again while the agent is away (a restart), within the reconnect window. */
  private again<T>(
    remoteTask: string | undefined,
    signal: AbortSignal | undefined,
    retryable: ((err: TriadError) => boolean) | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    return reconnecting(fn, {
      windowMs: this.reconnectWindowMs,
      signal,
      log: this.log,
      what: remoteTask ? { remote_task: remoteTask } : {},
      retryable,
    });
  }

  /** A stream from the agent, whose failure (opening it, or mid-way) is described as call()'s. */
  private async *streamOf<T>(
    operation: string,
    remoteTask: () => string | undefined,
    signal: AbortSignal | undefined,
    stream: AsyncGenerator<T>,
  ): AsyncGenerator<T> {
    try {
      yield* stream;
    } catch (err) {
      throw this.callError(err, operation, remoteTask(), signal);
    }
  }

  private callError(
    err: unknown,
    operation: string,
    remoteTask: string | undefined,
    signal: AbortSignal | undefined,
  ): unknown {
    if (signal?.aborted || err instanceof TriadError || isInputRequired(err)) return err;
    return remoteCallError(err, {
      agent: this.connection?.card.name ?? "",
      url: this.url,
      operation,
      remoteTask,
      tokenSent: this.token !== "",
    });
  }

  private message(job: RemoteJob): SendMessageRequest {
    const part =
      job.text !== undefined ? { text: job.text } : { data: job.data ?? {}, mediaType: "application/json" };
    return SendMessageRequest.fromJSON({
      message: {
        messageId: randomUUID(),
        role: "ROLE_USER",
        parts: [part],
        metadata: { triad_task_id: job.taskId, ...(job.skill ? { skill: job.skill } : {}) },
      },
    });
  }

  /**
   * Sends the task's answer to the remote task waiting for it, and follows that task to its next
   * end. Until the answer moves the remote task, the task (in the reply, GetTask, its stream)
   * still shows the question just answered: that is the task still running, never a new question.
   */
  private async answer(
    client: Client,
    card: AgentCard,
    remoteId: string,
    contextId: string,
    job: RemoteJob,
  ): Promise<RemoteEnd> {
    const request = SendMessageRequest.fromJSON({
      message: {
        // The same id on every attempt: a later attempt finds it in the task's history, and
        // knows the answer went (see attach()).
        messageId: answerMessageId(job.taskId, job.answer?.key),
        role: "ROLE_USER",
        taskId: remoteId,
        ...(contextId ? { contextId } : {}),
        parts: [answerPart(job.answer!.value)],
        metadata: { triad_task_id: job.taskId, ...(job.skill ? { skill: job.skill } : {}) },
      },
      configuration: { returnImmediately: true },
    });
    this.log.info(
      { task: job.taskId, remote_task: remoteId },
      "forwarding the input given to the remote task",
    );
    const reply = await this.again(remoteId, job.signal, refusedOnly, () =>
      this.call("SendMessage", remoteId, job.signal, () =>
        client
          .sendMessage(request, { signal: job.signal })
          .catch(notFoundAsLost(card.name, this.url, remoteId)),
      ),
    );
    if (!("status" in reply)) return { kind: "completed", result: messageResult(reply as Message) };
    const end = remoteEnd(reply, card.name);
    if (end.kind !== "running" && !isAnswered(end, job.answer!.key)) return end;
    return this.track(client, card, remoteId, job.signal, job.answer!.key);
  }

  /** As soon as the remote task is known: a later attempt after our death attaches to it. Never rejects. */
  private async record(job: RemoteJob, remoteTaskId: string, contextId: string): Promise<void> {
    try {
      await recordRemoteTask(job.saver!, job.taskId, {
        agent_url: this.url,
        remote_task_id: remoteTaskId,
        context_id: contextId,
      });
    } catch (err) {
      // The work is already there: failing now would only send it again. Wait on it all the same.
      this.log.warn(
        { task: job.taskId, remote_task: remoteTaskId, err: (err as Error).message },
        "could not record the remote task with the distributor; a later attempt would send the work again",
      );
    }
  }

  private async sendStreaming(
    client: Client,
    card: AgentCard,
    request: SendMessageRequest,
    onTask: (task: { id: string; contextId: string }) => Promise<void>,
    signal: AbortSignal | undefined,
  ): Promise<RemoteEnd> {
    let id: string | undefined;
    const stream = this.streamOf(
      "SendStreamingMessage",
      () => id,
      signal,
      client.sendMessageStream(request, { signal }),
    );
    let end: RemoteEnd | undefined;
    try {
      end = await this.follow(stream, card, async (t) => {
        if (id === undefined) {
          id = t.id;
          await onTask(t);
        }
      });
    } catch (err) {
      // The agent went away under the stream: the remote task is known, and polled until it is back.
      if (id === undefined || !isAgentAway(err) || this.reconnectWindowMs <= 0) throw err;
      this.log.debug({ remote_task: id, err: (err as Error).message }, "the stream broke; polling");
    }
    if (end !== undefined) return end;
    if (id === undefined) throw new TriadError("ERR_REMOTE_AGENT", `${card.name} answered with no task`);
    return this.poll(client, card, id, signal); // the stream ended early: ask until it ends
  }

  private async sendPolling(
    client: Client,
    card: AgentCard,
    request: SendMessageRequest,
    onTask: (task: { id: string; contextId: string }) => Promise<void>,
    signal: AbortSignal | undefined,
  ): Promise<RemoteEnd> {
    // Answered at once with the task (not at its end), so its id is recorded while we wait.
    request.configuration = { ...request.configuration!, returnImmediately: true };
    // Refused (the agent restarting) never arrived, and is sent again; reset may have arrived.
    const reply = await this.again(undefined, signal, refusedOnly, () =>
      this.call("SendMessage", undefined, signal, () => client.sendMessage(request, { signal })),
    );
    if (!("status" in reply)) return { kind: "completed", result: messageResult(reply as Message) };
    await onTask(reply);
    const end = remoteEnd(reply, card.name);
    return end.kind === "running" ? this.poll(client, card, reply.id, signal) : end;
  }

  /**
   * Follows a remote task that may still run: its state now, then its stream or GetTask polls.
   * With `answered` (the input given here for its question `key`, in a message `messageId`): a
   * task still showing that question whose history holds that message has been answered by an
   * earlier attempt (which died before the task moved on), and is followed as running; one
   * whose history lacks it is returned as it is, for the answer to be sent.
   */
  private async attach(
    client: Client,
    card: AgentCard,
    id: string,
    signal: AbortSignal | undefined,
    answered?: { key: string; messageId: string } | undefined,
  ): Promise<RemoteEnd | undefined> {
    const task = await this.again(id, signal, undefined, async () => {
      try {
        return await client.getTask(GetTaskRequest.fromJSON({ id }), { signal });
      } catch (err) {
        signal?.throwIfAborted();
        if (err instanceof TaskNotFoundError) return undefined; // the agent forgot it (a restart, a TTL)
        throw this.callError(err, "GetTask", id, signal);
      }
    });
    if (task === undefined) return undefined;
    const now = remoteEnd(task, card.name);
    const forwarded =
      answered !== undefined &&
      isAnswered(now, answered.key) &&
      task.history.some((m) => m.messageId === answered.messageId);
    if (now.kind !== "running" && !forwarded) return now;
    this.log.info(
      { remote_task: id, ...(forwarded ? { answered: true } : {}) },
      "attached to the remote task an earlier attempt started",
    );
    return this.track(client, card, id, signal, forwarded ? answered.key : undefined);
  }

  /**
   * Follows a remote task known to run to its next end: its stream (SubscribeToTask), or GetTask
   * polls. `answered`: the key of a question already answered, which counts as running.
   */
  private async track(
    client: Client,
    card: AgentCard,
    id: string,
    signal: AbortSignal | undefined,
    answered?: string | undefined,
  ): Promise<RemoteEnd> {
    if (this.options.streaming ?? card.capabilities?.streaming === true) {
      try {
        const end = await this.follow(
          client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id }), { signal }),
          card,
          undefined,
          answered,
        );
        if (end !== undefined) return end;
      } catch (err) {
        signal?.throwIfAborted();
        this.log.debug({ remote_task: id, err: (err as Error).message }, "SubscribeToTask failed; polling");
      }
    }
    return this.poll(client, card, id, signal, answered);
  }

  /**
   * Reads a stream to the remote task's end; undefined when it stops before. `answered`: the
   * key of the question just answered — the task showing it is still running, until it shows
   * anything else (after which a question is a new one, even one that looks the same).
   */
  private async follow(
    stream: AsyncGenerator<StreamResponse>,
    card: AgentCard,
    onTask?: (task: { id: string; contextId: string }) => Promise<void>,
    answered?: string | undefined,
  ): Promise<RemoteEnd | undefined> {
    const artifacts = new Map<string, Artifact>();
    let last: Task | undefined;
    for await (const event of stream) {
      const p = event.payload;
      if (p?.$case === "message") return { kind: "completed", result: messageResult(p.value) };
      if (p?.$case === "task") {
        last = p.value;
        for (const a of p.value.artifacts) mergeArtifact(artifacts, a, false);
        await onTask?.(p.value);
      } else if (p?.$case === "statusUpdate") {
        await onTask?.({ id: p.value.taskId, contextId: p.value.contextId });
        last = { ...(last ?? emptyTask(p.value.taskId, p.value.contextId)), status: p.value.status };
      } else if (p?.$case === "artifactUpdate" && p.value.artifact) {
        mergeArtifact(artifacts, p.value.artifact, p.value.append);
      }
      if (last === undefined) continue;
      const end = remoteEnd({ ...last, artifacts: [...artifacts.values()] }, card.name);
      if (isAnswered(end, answered)) continue;
      if (end.kind !== "running") return end;
      answered = undefined;
    }
    return undefined;
  }

  /**
   * GetTask until the remote task ends: 1 ms after the send first (a fast skill has ended by
   * then, and a non-streaming echo costs ~2 ms over the SDK's blocking call instead of ~6), then
   * twice as long each time, up to every pollIntervalMs. `answered`: as follow()'s.
   */
  private async poll(
    client: Client,
    card: AgentCard,
    id: string,
    signal: AbortSignal | undefined,
    answered?: string | undefined,
  ): Promise<RemoteEnd> {
    for (let waitMs = 1; ; waitMs = Math.min(this.pollIntervalMs, waitMs * 2)) {
      await sleep(waitMs, signal);
      const task = await this.again(id, signal, undefined, () =>
        this.call("GetTask", id, signal, () =>
          client
            .getTask(GetTaskRequest.fromJSON({ id }), { signal })
            .catch(notFoundAsLost(card.name, this.url, id)),
        ),
      );
      const end = remoteEnd(task, card.name);
      if (isAnswered(end, answered)) continue;
      if (end.kind !== "running") return end;
      answered = undefined;
    }
  }

  /** The attempt was given up (its deadline): the remote task is told so, if it still runs. */
  private async cancel(client: Client, id: string): Promise<void> {
    try {
      await client.cancelTask(CancelTaskRequest.fromJSON({ id }), { signal: AbortSignal.timeout(5000) });
      this.log.info({ remote_task: id }, "canceled the remote task of an attempt that was given up");
    } catch (err) {
      this.log.warn({ remote_task: id, err: (err as Error).message }, "could not cancel the remote task");
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

function emptyTask(id: string, contextId: string): Task {
  return { id, contextId, status: undefined, artifacts: [], history: [], metadata: undefined };
}
