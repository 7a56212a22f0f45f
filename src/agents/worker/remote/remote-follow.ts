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
import type { Client } from "@a2a-js/sdk/client";
import { TaskNotFoundError } from "@a2a-js/sdk/errors";
import type { BaseCheckpointSaver } from "@langchain/langgraph/web";
import { TriadError } from "../../../core/errors.js";
import type { JsonObject, JsonValue } from "../../../core/json.js";
import type { Logger } from "../../../core/logger.js";
import { isInputRequired } from "../../../core/state/input-required.js";
import { sleep } from "./abortable.js";
import {
  isLostTask,
  MAX_RESENDS_PER_ATTEMPT,
  notFoundAsLost,
  stillOwned,
  undefinedWhenLost,
} from "./lost-task.js";
import { isAgentAway, reconnecting, refusedOnly } from "./reconnect.js";
import { remoteCallError } from "./remote-errors.js";
import {
  answerMessageId,
  answerPart,
  isAnswered,
  mergeArtifact,
  messageResult,
  type RemoteEnd,
  remoteEnd,
} from "./remote-outcome.js";
import { recordRemoteTask } from "./remote-task-record.js";
import { sendSignal } from "./send-signal.js";

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

export type RemoteFollowOptions = {
  /** The agent's URL: named in errors, and recorded with the remote task id. */
  url: string;
  card: AgentCard;
  client: Client;
  /** SendStreamingMessage / SubscribeToTask rather than GetTask polls. */
  streaming: boolean;
  /** Whether a bearer token is sent (a 401 or 403 says so). */
  tokenSent: boolean;
  /** Longest pause between two GetTask polls. */
  pollIntervalMs: number;
  /** How long the agent may be away (a restart) before a call's failure is the attempt's. */
  reconnectWindowMs: number;
  log: Logger;
};

/**
 * One attempt's remote task on a connected agent, followed to its end: sent anew (and sent again
 * while the agent loses it, see lost-task.ts), attached to when an earlier attempt recorded it,
 * answered when it waits for input; its stream read, or GetTask polled, through the agent's
 * restarts (reconnect.ts). Every call's failure names the agent, the call and the cause.
 */
export class RemoteFollow {
  constructor(private readonly o: RemoteFollowOptions) {}

  /**
   * Sends the work as a new remote task and follows it to its end; `onId` learns its id. The
   * agent that loses it (it came back without its tasks) is sent the work again, at most
   * MAX_RESENDS_PER_ATTEMPT times, while the attempt still owns the task.
   */
  async sendAnew(job: RemoteJob, onId: (id: string | undefined) => void): Promise<RemoteEnd> {
    let remoteId: string | undefined;
    const learn = (id: string | undefined) => {
      remoteId = id;
      onId(id);
    };
    for (let resends = 0; ; resends++) {
      try {
        return await this.send(job, learn);
      } catch (err) {
        // The agent came back without the remote task: its loss, not the task's failure. Sent
        // again only by the attempt that still owns the task (a fenced put says so): one taken
        // back meanwhile (its worker thought dead) fails as before, and sends nothing.
        if (!isLostTask(err) || resends >= MAX_RESENDS_PER_ATTEMPT) throw err;
        if (job.saver && !(await stillOwned(job.saver, job.taskId, this.o.url, err))) throw err;
        this.o.log.warn(
          { task: job.taskId, remote_task: remoteId, err: err.message },
          "the A2A agent lost the remote task; sending the work again in the same attempt",
        );
        learn(undefined);
      }
    }
  }

  /** Sends the work as a new remote task and follows it to its end; `onId` learns its id. */
  private async send(job: RemoteJob, onId: (id: string) => void): Promise<RemoteEnd> {
    const request = message(job);
    // The remote task id goes to the distributor as soon as it is known, while the bridge
    // waits on the task (not before: a fast remote task would pay the round trip on top); the
    // outcome is reported only once the record is stored, so a worker that dies after
    // reporting has always left it for the next attempt.
    let recording: Promise<void> | undefined;
    const sending = sendSignal(job.signal); // a deadline mid-send waits for the id, to cancel it
    const onTask = async (task: { id: string; contextId: string }) => {
      onId(task.id);
      sending.known();
      if (job.saver) recording = this.record(job, task.id, task.contextId);
    };
    let end: RemoteEnd;
    try {
      end = this.o.streaming
        ? await this.sendStreaming(request, onTask, job.signal, sending.signal)
        : await this.sendPolling(request, onTask, job.signal, sending.signal);
    } finally {
      sending.done(); // its listener off the attempt's deadline, which may see more sends
    }
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
      windowMs: this.o.reconnectWindowMs,
      signal,
      log: this.o.log,
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
      agent: this.o.card.name,
      url: this.o.url,
      operation,
      remoteTask,
      tokenSent: this.o.tokenSent,
    });
  }

  /**
   * Sends the task's answer to the remote task waiting for it, and follows that task to its next
   * end. Until the answer moves the remote task, the task (in the reply, GetTask, its stream)
   * still shows the question just answered: that is the task still running, never a new question.
   */
  async answer(remoteId: string, contextId: string, job: RemoteJob): Promise<RemoteEnd> {
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
    this.o.log.info(
      { task: job.taskId, remote_task: remoteId },
      "forwarding the input given to the remote task",
    );
    const reply = await this.again(remoteId, job.signal, refusedOnly, () =>
      this.call("SendMessage", remoteId, job.signal, () =>
        this.o.client
          .sendMessage(request, { signal: job.signal })
          .catch(notFoundAsLost(this.o.card.name, this.o.url, remoteId)),
      ),
    );
    if (!("status" in reply)) return { kind: "completed", result: messageResult(reply as Message) };
    const end = remoteEnd(reply, this.o.card.name);
    if (end.kind !== "running" && !isAnswered(end, job.answer!.key)) return end;
    return this.track(remoteId, job.signal, job.answer!.key);
  }

  /** As soon as the remote task is known: a later attempt after our death attaches to it. Never rejects. */
  private async record(job: RemoteJob, remoteTaskId: string, contextId: string): Promise<void> {
    try {
      await recordRemoteTask(job.saver!, job.taskId, {
        agent_url: this.o.url,
        remote_task_id: remoteTaskId,
        context_id: contextId,
      });
    } catch (err) {
      // The work is already there: failing now would only send it again. Wait on it all the same.
      this.o.log.warn(
        { task: job.taskId, remote_task: remoteTaskId, err: (err as Error).message },
        "could not record the remote task with the distributor; a later attempt would send the work again",
      );
    }
  }

  private async sendStreaming(
    request: SendMessageRequest,
    onTask: (task: { id: string; contextId: string }) => Promise<void>,
    signal: AbortSignal | undefined,
    sending: AbortSignal | undefined,
  ): Promise<RemoteEnd> {
    let id: string | undefined;
    const stream = this.streamOf(
      "SendStreamingMessage",
      () => id,
      signal,
      this.o.client.sendMessageStream(request, { signal: sending }),
    );
    let end: RemoteEnd | undefined;
    try {
      end = await this.follow(stream, async (t) => {
        if (id === undefined) {
          id = t.id;
          await onTask(t);
        }
      });
    } catch (err) {
      // The agent went away under the stream: the remote task is known, and polled until it is back.
      if (id === undefined || !isAgentAway(err) || this.o.reconnectWindowMs <= 0) throw err;
      this.o.log.debug({ remote_task: id, err: (err as Error).message }, "the stream broke; polling");
    }
    if (end !== undefined) return end;
    if (id === undefined)
      throw new TriadError("ERR_REMOTE_AGENT", `${this.o.card.name} answered with no task`);
    return this.poll(id, signal); // the stream ended early: ask until it ends
  }

  private async sendPolling(
    request: SendMessageRequest,
    onTask: (task: { id: string; contextId: string }) => Promise<void>,
    signal: AbortSignal | undefined,
    sending: AbortSignal | undefined,
  ): Promise<RemoteEnd> {
    // Answered at once with the task (not at its end), so its id is recorded while we wait.
    request.configuration = { ...request.configuration!, returnImmediately: true };
    // Refused (the agent restarting) never arrived, and is sent again; reset may have arrived.
    const reply = await this.again(undefined, signal, refusedOnly, () =>
      this.call("SendMessage", undefined, signal, () =>
        this.o.client.sendMessage(request, { signal: sending }),
      ),
    );
    if (!("status" in reply)) return { kind: "completed", result: messageResult(reply as Message) };
    await onTask(reply);
    const end = remoteEnd(reply, this.o.card.name);
    return end.kind === "running" ? this.poll(reply.id, signal) : end;
  }

  /**
   * An earlier attempt's remote task, followed (see follow()); undefined for one the agent lost
   * (forgotten there, or lost while followed: isLostTask), whose work is then sent anew.
   */
  attach(
    id: string,
    signal: AbortSignal | undefined,
    answered?: { key: string; messageId: string } | undefined,
  ): Promise<RemoteEnd | undefined> {
    return this.attachOnce(id, signal, answered).catch(undefinedWhenLost);
  }

  /**
   * Follows a remote task that may still run: its state now, then its stream or GetTask polls;
   * undefined for one the agent forgot. With `answered`
   * (the input given here for its question `key`, in a message `messageId`): a task still
   * showing that question whose history holds that message has been answered by an earlier
   * attempt (which died before the task moved on), and is followed as running; one whose
   * history lacks it is returned as it is, for the answer to be sent.
   */
  private async attachOnce(
    id: string,
    signal: AbortSignal | undefined,
    answered?: { key: string; messageId: string } | undefined,
  ): Promise<RemoteEnd | undefined> {
    const task = await this.again(id, signal, undefined, async () => {
      try {
        return await this.o.client.getTask(GetTaskRequest.fromJSON({ id }), { signal });
      } catch (err) {
        signal?.throwIfAborted();
        if (err instanceof TaskNotFoundError) return undefined; // the agent forgot it (a restart, a TTL)
        throw this.callError(err, "GetTask", id, signal);
      }
    });
    if (task === undefined) return undefined;
    const now = remoteEnd(task, this.o.card.name);
    const forwarded =
      answered !== undefined &&
      isAnswered(now, answered.key) &&
      task.history.some((m) => m.messageId === answered.messageId);
    if (now.kind !== "running" && !forwarded) return now;
    this.o.log.info(
      { remote_task: id, ...(forwarded ? { answered: true } : {}) },
      "attached to the remote task an earlier attempt started",
    );
    return this.track(id, signal, forwarded ? answered.key : undefined);
  }

  /**
   * Follows a remote task known to run to its next end: its stream (SubscribeToTask), or GetTask
   * polls. `answered`: the key of a question already answered, which counts as running.
   */
  private async track(
    id: string,
    signal: AbortSignal | undefined,
    answered?: string | undefined,
  ): Promise<RemoteEnd> {
    if (this.o.streaming) {
      try {
        const end = await this.follow(
          this.o.client.resubscribeTask(SubscribeToTaskRequest.fromJSON({ id }), { signal }),
          undefined,
          answered,
        );
        if (end !== undefined) return end;
      } catch (err) {
        signal?.throwIfAborted();
        this.o.log.debug({ remote_task: id, err: (err as Error).message }, "SubscribeToTask failed; polling");
      }
    }
    return this.poll(id, signal, answered);
  }

  /**
   * Reads a stream to the remote task's end; undefined when it stops before. `answered`: the
   * key of the question just answered — the task showing it is still running, until it shows
   * anything else (after which a question is a new one, even one that looks the same).
   */
  private async follow(
    stream: AsyncGenerator<StreamResponse>,
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
      const end = remoteEnd({ ...last, artifacts: [...artifacts.values()] }, this.o.card.name);
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
    id: string,
    signal: AbortSignal | undefined,
    answered?: string | undefined,
  ): Promise<RemoteEnd> {
    for (let waitMs = 1; ; waitMs = Math.min(this.o.pollIntervalMs, waitMs * 2)) {
      await sleep(waitMs, signal);
      const task = await this.again(id, signal, undefined, () =>
        this.call("GetTask", id, signal, () =>
          this.o.client
            .getTask(GetTaskRequest.fromJSON({ id }), { signal })
            .catch(notFoundAsLost(this.o.card.name, this.o.url, id)),
        ),
      );
      const end = remoteEnd(task, this.o.card.name);
      if (isAnswered(end, answered)) continue;
      if (end.kind !== "running") return end;
      answered = undefined;
    }
  }

  /** The attempt was given up (its deadline): the remote task is told so, if it still runs. */
  async cancel(id: string): Promise<void> {
    try {
      await this.o.client.cancelTask(CancelTaskRequest.fromJSON({ id }), {
        signal: AbortSignal.timeout(5000),
      });
      this.o.log.info({ remote_task: id }, "canceled the remote task of an attempt that was given up");
    } catch (err) {
      this.o.log.warn({ remote_task: id, err: (err as Error).message }, "could not cancel the remote task");
    }
  }
}

function message(job: RemoteJob): SendMessageRequest {
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

function emptyTask(id: string, contextId: string): Task {
  return { id, contextId, status: undefined, artifacts: [], history: [], metadata: undefined };
}
